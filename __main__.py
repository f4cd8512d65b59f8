"""`python -m regiofeed`: the command line."""

from regiofeed.flows.cli import main

if __name__ == "__main__":
    main(prog_name="regiofeed")
