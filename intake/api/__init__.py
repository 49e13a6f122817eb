"""The HTTP API (FastAPI). Handlers validate, call one service or pipeline function, shape the answer."""
