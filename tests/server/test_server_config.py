"""cpppo.cfg: the search locations (~ and . here; /etc is left alone), -c, layering, and errors."""

from __future__ import annotations

import re
import struct

import pytest

from cpppo.enip.cpf import decode_cpf
from cpppo.enip.encapsulation import Command

from .cli import ServerProcess, run_server
from .conftest import wait_for
from .rawclient import RawClient, attr, command, get_single, tag, udp_transact


@pytest.fixture
def dirs(tmp_path):
    """(cwd, env) with HOME pointing into tmp_path, so only files the test writes are found."""
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    return work, {"HOME": str(home)}


def _product_name(address) -> str:
    frame = udp_transact(address, command(Command.LIST_IDENTITY))
    items, _ = decode_cpf(frame.data)
    return items[0].product_name


def test_cwd_config_sets_identity_and_is_logged(dirs):
    work, env = dirs
    (work / "cpppo.cfg").write_text("[Identity]\n# strings are not quoted\nProduct Name = 1756-L61/B SIMULATED\n"
                                    "Serial Number = 0x12345678\n")
    with ServerProcess("-v", "-a", "127.0.0.1:0", "X=DINT", cwd=work, env=env) as srv:
        assert _product_name(srv.address) == "1756-L61/B SIMULATED"
        with RawClient(srv.address, register=True) as c:
            assert c.cip(get_single(attr(0x01, 1, 7))).data[1:] == b"1756-L61/B SIMULATED"
            assert struct.unpack("<I", c.cip(get_single(attr(0x01, 1, 6))).data) == (0x12345678,)
        wait_for(lambda: any("Loaded config files: ['cpppo.cfg']" in line for line in srv.stderr))


def test_home_then_cwd_then_option_later_wins(dirs):
    work, env = dirs
    home = env["HOME"]
    with open(f"{home}/.cpppo.cfg", "w") as f:
        f.write("[Identity]\nProduct Name = from home\nSerial Number = 4660\nVendor Number = 7\n")
    (work / "cpppo.cfg").write_text("[Identity]\nProduct Name = from cwd\nSerial Number = 22136\n")
    (work / "extra.cfg").write_text("[Identity]\nProduct Name = from -c\n")
    with ServerProcess("-v", "-a", "127.0.0.1:0", "X=DINT", cwd=work, env=env) as srv:
        assert _product_name(srv.address) == "from cwd"
        with RawClient(srv.address, register=True) as c:
            assert struct.unpack("<I", c.cip(get_single(attr(0x01, 1, 6))).data) == (22136,)
            assert struct.unpack("<H", c.cip(get_single(attr(0x01, 1, 1))).data) == (7,)  # home's, kept
        loaded = wait_for(lambda: next((line for line in srv.stderr if "Loaded config files" in line), None))
        assert ".cpppo.cfg" in loaded and "'cpppo.cfg'" in loaded
        assert loaded.index(".cpppo.cfg") < loaded.index("'cpppo.cfg'")
    with ServerProcess("-a", "127.0.0.1:0", "-c", "extra.cfg", "X=DINT", cwd=work, env=env) as srv:
        assert _product_name(srv.address) == "from -c"


def test_tcpip_interface_configuration_and_host_name(dirs):
    work, env = dirs
    (work / "cpppo.cfg").write_text("""\
[TCPIP]
# complex structures are JSON, and may span lines
Interface Configuration = {
    "ip_address":     "192.168.0.201",
    "network_mask":   "255.255.255.0",
    "dns_primary":    "8.8.8.8",
    "dns_secondary":  "8.8.4.4",
    "domain_name":    "example.com"
    }
Host Name = controller
""")
    with ServerProcess("-a", "127.0.0.1:0", "X=DINT", cwd=work, env=env) as srv, \
            RawClient(srv.address, register=True) as c:
        conf = c.cip(get_single(attr(0xF5, 1, 5)))
        assert conf.status == 0
        ip, mask, gateway, dns1, dns2 = struct.unpack_from("<5I", conf.data)
        assert ip == 0xC0A800C9 and mask == 0xFFFFFF00 and gateway == 0
        assert (dns1, dns2) == (0x08080808, 0x08080404)
        (n,) = struct.unpack_from("<H", conf.data, 20)
        assert conf.data[22 : 22 + n] == b"example.com"
        host = c.cip(get_single(attr(0xF5, 1, 6)))
        assert host.data[:2] == b"\x0a\x00" and host.data[2:12] == b"controller"


def test_route_path_in_the_config_file(dirs):
    work, env = dirs
    (work / "cpppo.cfg").write_text("[UCMM]\nRoute Path = 1/0\n")
    with ServerProcess("-a", "127.0.0.1:0", "X=DINT", cwd=work, env=env) as srv, \
            RawClient(srv.address, register=True) as c:
        assert c.read_values(tag("X"), route="1/0") == [0]
        assert c.read(tag("X"), route="1/4").status == 0x01
    # the command line overrides the file
    with ServerProcess("-a", "127.0.0.1:0", "--route-path", "1/4", "X=DINT", cwd=work, env=env) as srv, \
            RawClient(srv.address, register=True) as c:
        assert c.read_values(tag("X"), route="1/4") == [0]
        assert c.read(tag("X"), route="1/0").status == 0x01


MALFORMED = {
    "line without a value": ("[Identity]\nProduct Name = ok\nthis line has no equals sign\n", 3),
    "no section header": ("Product Name = x\n", 1),
    "bad number": ("[Identity]\n\nSerial Number = twelve\n", 3),
    "bad JSON": ("[TCPIP]\nHost Name = h\nInterface Configuration = {\n    \"ip_address\": \"1.2.3.4\",,\n    }\n", 4),
    "bad IP address": ("[TCPIP]\nInterface Configuration = {\"ip_address\": \"1.2.3\"}\n", 2),
    "bad route path": ("[UCMM]\n# comment\nRoute Path = 1/zero\n", 3),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_config_names_the_file_and_line(dirs, case):
    work, env = dirs
    text, line = MALFORMED[case]
    (work / "cpppo.cfg").write_text(text)
    result = run_server("-a", "127.0.0.1:0", "X=DINT", cwd=work, env=env)
    assert result.returncode == 2
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    assert "cpppo.cfg" in err
    assert re.search(rf"\bline:? +{line}\b", err), err


def test_malformed_option_file_is_named(dirs):
    work, env = dirs
    (work / "site.cfg").write_text("[Identity\n")
    result = run_server("-a", "127.0.0.1:0", "-c", "site.cfg", "X=DINT", cwd=work, env=env)
    assert result.returncode == 2
    assert "site.cfg" in result.stderr and re.search(r"\bline:? +1\b", result.stderr)


def test_a_setting_or_section_nothing_reads_is_warned_about_with_its_line(dirs):
    work, env = dirs
    (work / "cpppo.cfg").write_text("[Identity]\nProduct Name = kept\n\n[TCPIP]\nHost Name = plc\n"
                                    "IP Address = 10.0.0.5\n\n[Identiy]\nSerial Number = 5\n")
    with ServerProcess("-a", "127.0.0.1:0", "X=DINT", cwd=work, env=env) as srv:
        assert _product_name(srv.address) == "kept"  # what is known still applies
        warned = wait_for(lambda: [line for line in srv.stderr if "WARNING" in line and "cpppo.cfg, line" in line]
                          if len([line for line in srv.stderr if "cpppo.cfg, line" in line]) >= 2 else None)
    assert any("cpppo.cfg, line 6: [TCPIP] 'ip address' is not a setting cpppo reads" in w for w in warned)
    assert any("cpppo.cfg, line 8: [Identiy] is not a section cpppo reads" in w for w in warned)


def test_the_shipped_sample_config_loads_without_a_warning(dirs, caplog):
    import logging
    from pathlib import Path

    import cpppo
    from cpppo.server.enip.config import load_config

    sample = Path(cpppo.__file__).parent / "cpppo.cfg"
    with caplog.at_level(logging.WARNING, logger="cpppo"):
        config = load_config([sample], search=False)
    assert not caplog.records
    assert config.identity.product_name == "1756-L61/B LOGIX5561" and config.identity.serial_number == 0x006C061A
    assert config.tcpip.ip_address == "192.168.0.201" and config.tcpip.host_name == "controller"
    assert [p.to_json() for p in config.route_path] == [{"port": 1, "link": 0}]
    work, env = dirs
    with ServerProcess("-a", "127.0.0.1:0", "-c", str(sample), "M1=Motor", cwd=work, env=env) as srv, \
            RawClient(srv.address, register=True) as c:
        assert c.read(tag("M1"), route="1/0").status == 0
        assert c.read(tag("M1"), route="1/1").status == 0x01  # only the configured route path
