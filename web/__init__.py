"""The officers' workspace and the platforms' check API, served by ``tisiwatch serve``.

Routes parse the request, call the same store and report functions the CLI calls, and render a Jinja2
template (autoescaped). Every route declares who may use it (``web.guard``).
"""
