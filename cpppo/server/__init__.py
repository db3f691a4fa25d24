"""The network side: a :class:`~cpppo.server.host.Host` owns the event loop, and servers run on it.

* :mod:`cpppo.server.host`  the composition root: one loop, its services, sweeper, thread pool, forwarder
* :mod:`cpppo.server.enip`  the EtherNet/IP simulator over :mod:`cpppo.device` (and the documented
  ``cpppo.server.enip.*`` modules)
"""
