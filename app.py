"""pdz-monitor: the Streamlit entry point (`streamlit run app.py`).

On a fresh machine the first start builds the demo warehouse (synthetic data)
by itself, with open demo access until accounts are created
(`python -m etl users add`). The router is `ui/router.py`: who is logged in,
and the navigation of each role.

Streamlit runs this file as `__main__` for every page run. `streamlit run app.py` also imports it,
before the server starts, and finds `app`: the server then warms up as it starts (`ui/warmup.py`:
the warehouse's snapshot, the indicator tables, the imports) and answers Streamlit's own frontend
files from memory (`ui/assets.py`).
"""

import streamlit as st

if __name__ == "__main__":  # a run of the dashboard
    from ui import router

    router.run()
else:  # the server (`streamlit run app.py` imports this module to find it)
    from starlette.middleware import Middleware

    from ui.assets import FrontendAssets
    from ui.warmup import lifespan

    app = st.App(__file__, lifespan=lifespan, middleware=[Middleware(FrontendAssets)])
