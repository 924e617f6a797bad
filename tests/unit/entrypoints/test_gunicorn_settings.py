"""gunicorn as cbp configures it."""

from __future__ import annotations

from cbp.entrypoints.serve import Gunicorn


def test_no_control_socket_is_bound_that_a_second_server_would_take() -> None:
    served = Gunicorn({"bind": "127.0.0.1:0", "workers": 1}, lambda: None)
    assert served.cfg.settings["control_socket_disable"].get() is True
    assert served.cfg.bind == ["127.0.0.1:0"]
