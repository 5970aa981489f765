"""`python -m loom.cli ...`: the same as the `loom` command."""
from .main import main

main()
