"""`python -m bulkimport` is the same as the `bulkimport` command."""

from bulkimport.cli import main

if __name__ == "__main__":
    main()
