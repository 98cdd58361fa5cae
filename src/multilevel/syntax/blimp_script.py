"""Blimp command-language front end: script text → :class:`BlimpScript`.

A Blimp script (an ``.imp`` file) is a list of statements, each ending in ``;``. A
statement that starts with ``NAME:`` (the name in any case) opens a command. Most
commands hold one statement (``SEED: 123;``); MODEL, CENTER, PARAMETERS, SIMPLE,
SAVE, LATENT and TRANSFORM also own the statements that follow them, up to the next
``NAME:``. ``#`` starts a comment that runs to the end of the line, and a statement
may span lines.

The stages follow the formula front end (scanner → parser), one module each: the
commands and what their values look like (:mod:`.blimp_commands`); the source, with
comments blanked and the text cut into statements with their offsets kept
(:mod:`.blimp_source`); each statement scanned into tokens with spans
(:mod:`.blimp_scan`) and read by a small recursive-descent parser into nodes of the
shared AST (:mod:`.blimp_model_lines`, :mod:`.blimp_statements`); the parsed values
(:mod:`.blimp_nodes`). Expressions inside parentheses and PARAMETERS definitions go
through the formula front end's own expression parser, so both front ends build the same
nodes. Every node keeps its place in the script (``origin``: offsets, line, column), and
every error is a :class:`BlimpScriptError` that names the script line and column and puts
a caret under the offending text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import BlimpScriptError
from .blimp_commands import (RULES, UNSUPPORTED_COMMANDS, Rule, ValueForm, canonical_name, close_command_names,
                             unknown_command_hint)
from .blimp_model_lines import ModelLineParser
from .blimp_nodes import BlimpScript, Centering, Command, Definition, ModelLine, SimpleEffect
from .blimp_source import Fragment, Head, ScriptSource, check_invisible_characters, read_head, split_statements
from .blimp_statements import ITEM, PLAIN_CHECKS, StatementParser, definition

__all__ = ["BlimpScript", "Centering", "Command", "Definition", "ModelLine", "ScriptSource", "SimpleEffect",
           "parse_script"]


def parse_script(text: str) -> BlimpScript:
    """Parse a Blimp script. Raises :class:`BlimpScriptError` pointing at the bad text."""
    if not isinstance(text, str):
        raise TypeError(f"a Blimp script must be a string, not {type(text).__name__}")
    if text.startswith("\ufeff"):
        text = text[1:]  # a UTF-8 byte-order mark (Windows Notepad) read as text
    source = ScriptSource(text)
    check_invisible_characters(source)
    builder = _ScriptBuilder(source)
    for statement in split_statements(source):
        builder.add(statement)
    return builder.finish()


@dataclass
class _OpenCommand:
    """A plain command whose statements are still being collected."""

    name: str
    rule: Rule
    line: int
    statements: list[str] = field(default_factory=list)
    fragments: list[Fragment] = field(default_factory=list)

    def add(self, fragment: Fragment) -> None:
        self.statements.append(fragment.joined())
        self.fragments.append(fragment)

    def close(self) -> Command:
        value = "; ".join(self.statements)
        items = tuple(ITEM.findall(value))
        origins = tuple(fragment.origin(match.start(), match.end()) for fragment in self.fragments
                        for match in ITEM.finditer(fragment.text))
        first, last = self.fragments[0], self.fragments[-1]
        origin = first.source.origin(first.start, last.end)
        return Command(self.name, value, items, self.line, tuple(self.statements), origin,
                       origins if len(origins) == len(items) else ())


_LABEL = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s*:(?=\s|$)")
_MODEL_OPERATOR_TEXT = re.compile(r"~|->|<->")


class _ScriptBuilder:
    """Walks the statements in order and routes each to the command that owns it."""

    def __init__(self, source: ScriptSource):
        self.source = source
        self.commands: list[Command] = []
        self.model: list[ModelLine] = []
        self.centering: list[Centering] = []
        self.parameters: list[Definition] = []
        self.simple: list[SimpleEffect] = []
        self.first_lines: dict[str, int] = {}
        self.open: _OpenCommand | None = None
        self.block: str | None = None

    def add(self, statement: Fragment) -> None:
        statement = statement.trimmed()
        if not statement.text:
            return  # an empty statement (';;') holds nothing
        head = read_head(statement)
        if head is not None:
            canonical = canonical_name(head.word)
            if canonical in RULES:
                self.open_command(canonical, head, statement)
                return
            if head.word.upper() in UNSUPPORTED_COMMANDS:
                raise statement.error(f"{head.word.upper()} is a Blimp command that multilevel does not support",
                                      head.start, head.end, hint="Remove it from the script.")
            if not self.in_model():
                raise statement.error(f"'{head.word}' is not a Blimp command", head.start, head.end,
                                      hint=unknown_command_hint(head.word))
        if self.open is None or not self.open.rule.owns_following_statements:
            raise self.statement_without_command(statement)
        self.add_statement(statement)

    def in_model(self) -> bool:
        return self.open is not None and self.open.rule.form is ValueForm.MODEL

    def statement_without_command(self, statement: Fragment) -> BlimpScriptError:
        if self.open is None:
            hint = "A Blimp script is a list of commands such as 'DATA: file.csv;' and 'MODEL: y ~ x;'."
        else:
            hint = (f"{self.open.name} (line {self.open.line}) takes a single statement; "
                    "start this one with a command such as 'MODEL:'.")
        return statement.first_word_error("this statement does not start with a command ('NAME:')", hint=hint)

    def open_command(self, name: str, head: Head, statement: Fragment) -> None:
        self.close_open_command()
        line = statement.source.line_number(statement.start + head.start)
        if name in self.first_lines:
            raise statement.error(f"{name} is given twice (first on line {self.first_lines[name]})",
                                  head.start, head.end, hint=f"Give each command once; merge the two {name} commands.")
        self.first_lines[name] = line
        rule = RULES[name]
        self.open = _OpenCommand(name, rule, line)
        self.block = None
        content = statement.part(head.content_start).trimmed()
        if not content.text:
            raise statement.error(f"{name} needs a value", head.start, head.end, hint=f"Write it as: {rule.example}")
        self.add_statement(content)

    def add_statement(self, fragment: Fragment) -> None:
        """One statement of the open command, dispatched on the command's value form."""
        command = self.open
        assert command is not None  # add() and open_command() call this only with a command open
        form = command.rule.form
        if form is ValueForm.MODEL:
            self.model.append(self.model_line(fragment))
        elif form is ValueForm.CENTERING:
            self.centering.append(StatementParser(fragment).centering())
        elif form is ValueForm.DEFINITIONS:
            self.parameters.append(definition(fragment))
        elif form is ValueForm.SIMPLE_EFFECTS:
            self.simple.append(StatementParser(fragment).simple_effect())
        else:
            PLAIN_CHECKS[form](fragment, command.name, command.rule)
            command.add(fragment)

    def model_line(self, fragment: Fragment) -> ModelLine:
        """A MODEL statement, optionally opened by a block label (``focal:``, ``predictor.model:``)
        that applies to it and to the model lines after it."""
        label = _LABEL.match(fragment.text)
        if label is not None:
            rest = fragment.part(label.end()).trimmed()
            word = label.group(1)
            if not rest.text:
                raise fragment.error(f"the model block '{word}:' has no model line after it",
                                     label.start(1), label.end(1), hint=f"Write it as: {word}: y ~ x;")
            if _MODEL_OPERATOR_TEXT.search(rest.text) is None and (
                    word.isupper() or close_command_names(word, cutoff=0.75)):
                raise fragment.error(f"'{word}' is not a Blimp command", label.start(1), label.end(1),
                                     hint=unknown_command_hint(word))
            self.block = word
            fragment = rest
        return ModelLineParser(fragment).model_line(self.block)

    def close_open_command(self) -> None:
        if self.open is not None and self.open.rule.form in PLAIN_CHECKS:
            self.commands.append(self.open.close())
        self.open = None

    def finish(self) -> BlimpScript:
        self.close_open_command()
        return BlimpScript(self.source.text, tuple(self.commands), tuple(self.model), tuple(self.centering),
                           tuple(self.parameters), tuple(self.simple))


