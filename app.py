"""pdz-monitor: the Streamlit entry point (`streamlit run app.py`).

On a fresh machine the first start builds the demo warehouse (synthetic data)
by itself, with open demo access until accounts are created
(`python -m etl users add`). The router is `ui/router.py`: who is logged in,
and the navigation of each role.
"""

from ui import router

router.run()
