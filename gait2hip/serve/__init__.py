"""The clinic service: ``gait2hip serve`` — upload a walking trial, get hip forces and moments.

A FastAPI app (:func:`gait2hip.serve.app.create_app`) that runs on the clinic's own machine,
with a page, an API, a printable patient report and token access. Optional extra
``gait2hip[serve]`` (fastapi, uvicorn, python-multipart). See ``docs/security.md``.
"""
