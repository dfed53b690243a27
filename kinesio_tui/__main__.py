"""`python -m kinesio_tui`: the same as the `kinesio` command."""

from kinesio_tui.launch import main

main()
