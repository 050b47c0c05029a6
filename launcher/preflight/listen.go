package preflight

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// node refused the address it would listen on: a port below the kernel's
// floor for users other than root (net.ipv4.ip_unprivileged_port_start:
// 1024 on a host, and so for an add-on on the host's network; Docker sets
// 0 in a container's own network), or an address no interface of the
// network has (the host's address inside a container, ::1 where IPv6 is
// off, as Docker's networks have it unless enabled).

// portRefused explains node's "listen EACCES" on addr:port.
func (on Machine) portRefused(addr, port string) Diagnosis {
	d := Diagnosis{
		Cause: fmt.Sprintf("it may not listen on port %s (permission denied)", port),
		Hint:  "Ports below 1024 are root's unless the network says otherwise: listen on one from 1024 up, or run node as root (unset LAUNCHER_USER).",
	}
	p, _ := strconv.Atoi(port)
	u := on.User
	if u == nil || on.PortFloor == nil {
		return d
	}
	floor, err := on.PortFloor()
	if err != nil {
		return d
	}
	if u.UID == 0 || p >= floor {
		d.Cause = fmt.Sprintf("it may not listen on %s (permission denied), though its user, %s, may listen on port %s here", net.JoinHostPort(addr, port), u, port)
		d.Hint = "The refusal is not the network's floor for users' ports: the container runs without CAP_NET_BIND_SERVICE (a run with --cap-drop), " +
			"or a security profile refuses it (the add-on's AppArmor profile, apparmor.txt; SELinux): allow the port there, or listen on another."
		return d
	}
	d.Cause = fmt.Sprintf("its user, %s, may not listen on port %s: ports below %d are root's on this network (net.ipv4.ip_unprivileged_port_start)", u, port, floor)
	d.Hint = fmt.Sprintf("Have the app listen on a port from %d up, and publish it where it is wanted: config.yaml's ports map a container port to any port of the host (`8080/tcp: 80`), "+
		"and ingress_port names the one ingress uses; under host_network the port is the host's own. Or run node as root (unset LAUNCHER_USER).", floor)
	if on.Node == "" {
		return d
	}
	switch asks, lost, fix := bindServiceLost(on.Node, on.NoNewPrivs); {
	case asks && lost != "":
		d.Cause += "; node's file has cap_net_bind_service, which would let it, but " + lost
		d.Hint = fix + "; or " + strings.ToLower(d.Hint[:1]) + d.Hint[1:]
	case !asks:
		d.Hint += " Or give node's file the capability to listen there, in the runtime stage: `RUN apk add --no-cache libcap-setcap && setcap cap_net_bind_service=+ep " + on.Node +
			"` (node keeps its options then; its loader ignores LD_LIBRARY_PATH and LD_PRELOAD)."
	}
	return d
}

// addressNotHere explains node's "listen EADDRNOTAVAIL" on addr.
func (on Machine) addressNotHere(addr string) Diagnosis {
	d := Diagnosis{
		Cause: fmt.Sprintf("it may not listen on %s: no network interface here has that address", addr),
		Hint: "An add-on's container has a network of its own, without the host's addresses: listen on 0.0.0.0 or :: (every address), " +
			"where Home Assistant's ingress and the add-on's ports reach it.",
	}
	if on.Addrs == nil {
		return d
	}
	have, err := on.Addrs()
	if err != nil || len(have) == 0 {
		return d
	}
	shown := make([]string, len(have))
	v6 := false
	for i, a := range have {
		shown[i] = a.String()
		v6 = v6 || a.Is6() && !a.Is4In6()
	}
	d.Cause += " (" + strings.Join(shown, ", ") + ")"
	if a := parseAddr(addr); a.Is6() && !a.Is4In6() && !v6 {
		d.Cause += ": IPv6 is off in this network"
		d.Hint = "Docker's networks have IPv6 off unless it is enabled: listen on 0.0.0.0 (every IPv4 address), or on 127.0.0.1 rather than localhost or ::1."
	}
	return d
}

// parseAddr reads the address of node's "listen" error, which may be a
// name; a name or nothing is the zero Addr.
func parseAddr(s string) netip.Addr {
	a, _ := netip.ParseAddr(strings.Trim(s, "[]"))
	return a
}
