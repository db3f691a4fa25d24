"""Servers: the EtherNet/IP simulator lives in :mod:`cpppo.server.enip`."""
