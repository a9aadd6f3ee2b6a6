"""The FastAPI web app: the only door for users."""
