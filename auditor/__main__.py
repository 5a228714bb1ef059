"""`python -m auditor` runs the `audit` command."""

from auditor.cli import main

if __name__ == "__main__":  # worker processes started by spawn import this module without running it
    main()
