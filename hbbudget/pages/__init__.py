"""One module per page: layout and its state's load guard; no business logic."""
