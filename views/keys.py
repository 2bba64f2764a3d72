"""Session-state keys that more than one page reads or writes, named once.

Not a page itself (app.py does not list it).
"""

#: The Draw page's current digit, preprocessed to 28×28 floats in [0, 1], or None (the
#: Embeddings page places it on digit maps).
CURRENT_DIGIT = "current_digit"
#: This session's Playground network and its dataset (the Embeddings page projects its last
#: hidden layer).
PLAYGROUND_NET = "pg_net"
PLAYGROUND_DATA = "pg_data"
#: The url path of the page this run shows ("" for Home), set by app.py before the page runs.
CURRENT_PAGE = "current_page"
#: The trainings this session asked for (views/state.py): dicts with kind, config, key (the
#: job's store key), title and page, shown on the other pages while they run.
MY_TRAININGS = "my_trainings"
