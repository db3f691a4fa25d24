"""The simulated device, sans I/O: what a ControlLogix holds and how it answers CIP requests.

No sockets, no event loop: a :class:`~cpppo.device.controller.Controller` takes a CIP request
message and returns its reply (or a :class:`~cpppo.device.backplane.Forward` effect for a route it
cannot answer itself); the servers in :mod:`cpppo.server` carry the bytes.

* ``controller``  request dispatch, paths, routing and bundling; ``tagio`` the tag services
* ``tags``        attributes: a tag's values, and the one commit every change ends in
* ``events``      the write funnel's events, observers and subscriptions
* ``backplane``   modules by route-path hop, and the Forward effect for remote targets
* ``datatypes``   structures (UDTs) and the per-controller type registry; ``symbols`` the Symbol
  and Template objects; ``objects`` the standard CIP objects; ``clock`` the wall clock
* ``connections`` the Connection Manager's table of class 3 connections
"""
