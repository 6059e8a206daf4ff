"""One module per page (a large page adds `<page>_state.py` / `<page>_dialogs.py`, a page section its own module):
layout and its state's guarded handlers; no business logic."""
