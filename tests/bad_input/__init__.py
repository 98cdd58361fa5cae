"""The bad-input catalogue: each case is an input a careless or hostile user might give, and the
message it must get. The cases live in ``cases_*.py`` (one file per area, each a list ``CASES``);
``test_catalogue.py`` runs every case and checks ``docs/bad-input.md`` shows what the case gives,
so the catalogue stays true. After adding or changing a case, rewrite the document with::

    python -m tests.bad_input.catalogue
"""
