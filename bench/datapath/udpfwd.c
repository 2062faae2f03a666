/* Benchmark reference: a minimal forwarder with flannel's udp proxy design (one packet per read, one
 * datagram per packet), so FlannelPS's UDP datapath can be compared against the design it replaces,
 * on the same machine.
 * One thread, one poll() over a TUN (IFF_TUN|IFF_NO_PI) and a UDP socket, one MTU-sized buffer,
 * read->sendto and recv->write, a static route table given on the command line. Not for production.
 *
 * usage: udpfwd -b BIND_IP [-p 8285] [-m 1472] [-i flannel%d] [-s TUN_IP] NET/LEN=PEER_IP ...
 * Prints "ready <ifname>" on stdout once the TUN exists; counters on stderr at SIGTERM/SIGINT. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_ROUTES 256

struct route {
	uint32_t net;  /* network byte order, already masked */
	uint32_t mask; /* network byte order */
	struct sockaddr_in peer;
};

static struct route routes[MAX_ROUTES];
static int route_count;
static volatile sig_atomic_t stop_requested;
static uint32_t tun_addr; /* source of ICMP errors written back into the TUN */

static struct {
	unsigned long long tun_rx, udp_tx, udp_rx, tun_tx;
	unsigned long long short_drop, ttl_drop, no_route, oversize, send_err;
} stats;

static void on_signal(int sig) { (void)sig; stop_requested = 1; }

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* Linear first-match lookup; a hit is swapped to the front because bursts go to one peer. */
static const struct route *lookup(uint32_t dst)
{
	for (int i = 0; i < route_count; i++) {
		if ((dst & routes[i].mask) != routes[i].net)
			continue;
		if (i > 0) {
			struct route hit = routes[i];
			routes[i] = routes[0];
			routes[0] = hit;
		}
		return &routes[0];
	}
	return NULL;
}

/* TTL minus one with the RFC 1624 incremental checksum update; 0 when the packet must die. */
static int decrement_ttl(uint8_t *ip)
{
	if (ip[8] <= 1)
		return 0;
	ip[8]--;
	uint32_t sum = ((uint32_t)ip[10] << 8 | ip[11]) + 0x0100;
	sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
	return 1;
}

static uint16_t checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* ICMP destination unreachable / net unreachable back into the TUN, as flannel's proxy does;
 * never in answer to ICMP, to a non-first fragment, or to a header we cannot quote. */
static void send_net_unreachable(int tun, const uint8_t *pkt, size_t len)
{
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
	if (pkt[9] == IPPROTO_ICMP || (((pkt[6] & 0x1f) << 8) | pkt[7]) != 0 || ihl < 20 || ihl + 8 > len)
		return;
	uint8_t out[20 + 8 + 60 + 8];
	size_t quoted = ihl + 8, total = 20 + 8 + quoted;
	memset(out, 0, 28);
	out[0] = 0x45;
	out[2] = (uint8_t)(total >> 8);
	out[3] = (uint8_t)total;
	out[8] = 8; /* TTL */
	out[9] = IPPROTO_ICMP;
	memcpy(out + 12, &tun_addr, 4);
	memcpy(out + 16, pkt + 12, 4); /* back to the offender's source */
	uint16_t c = checksum(out, 20);
	out[10] = (uint8_t)(c >> 8);
	out[11] = (uint8_t)c;
	out[20] = 3; /* destination unreachable */
	out[21] = 0; /* net unreachable */
	memcpy(out + 28, pkt, quoted);
	c = checksum(out + 20, 8 + quoted);
	out[22] = (uint8_t)(c >> 8);
	out[23] = (uint8_t)c;
	if (write(tun, out, total) < 0 && errno != EAGAIN)
		perror("write icmp");
}

/* One packet TUN -> UDP. Returns 0 when the TUN had nothing to read. */
static int tun_to_udp(int tun, int udp, uint8_t *buf, size_t mtu)
{
	ssize_t n = read(tun, buf, mtu);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		die("read tun");
	}
	stats.tun_rx++;
	if (n < 20) {
		stats.short_drop++;
		return 1;
	}
	uint32_t dst;
	memcpy(&dst, buf + 16, 4);
	const struct route *r = lookup(dst);
	if (r == NULL) {
		stats.no_route++;
		send_net_unreachable(tun, buf, (size_t)n);
		return 1;
	}
	if (!decrement_ttl(buf)) {
		stats.ttl_drop++;
		return 1;
	}
	if (sendto(udp, buf, (size_t)n, 0, (const struct sockaddr *)&r->peer, sizeof r->peer) < 0)
		stats.send_err++;
	else
		stats.udp_tx++;
	return 1;
}

/* One datagram UDP -> TUN. Returns 0 when the socket had nothing to read. */
static int udp_to_tun(int udp, int tun, uint8_t *buf, size_t mtu)
{
	ssize_t n = recv(udp, buf, mtu, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		if (errno == ECONNREFUSED) /* an earlier sendto met an ICMP port unreachable */
			return 1;
		die("recv udp");
	}
	stats.udp_rx++;
	if ((size_t)n > mtu) { /* MSG_TRUNC reports the real size: drop, never forward a cut packet */
		stats.oversize++;
		return 1;
	}
	if (n < 20) {
		stats.short_drop++;
		return 1;
	}
	if (!decrement_ttl(buf)) {
		stats.ttl_drop++;
		return 1;
	}
	for (int tries = 0; tries < 1000; tries++) {
		if (write(tun, buf, (size_t)n) >= 0) {
			stats.tun_tx++;
			return 1;
		}
		if (errno != EAGAIN && errno != EINTR)
			die("write tun");
		struct pollfd w = { .fd = tun, .events = POLLOUT };
		poll(&w, 1, 10);
	}
	return 1;
}

static int open_tun(const char *pattern, char *name_out)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open /dev/net/tun");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	strncpy(ifr.ifr_name, pattern, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		die("TUNSETIFF");
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		die("fcntl O_NONBLOCK");
	memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
	name_out[IFNAMSIZ - 1] = 0;
	return fd;
}

static void add_route(const char *spec, int port)
{
	char net[32], peer[32];
	unsigned len;
	if (sscanf(spec, "%31[0-9.]/%u=%31[0-9.]", net, &len, peer) != 3 || len > 32) {
		fprintf(stderr, "bad route '%s' (want NET/LEN=PEER_IP)\n", spec);
		exit(2);
	}
	if (route_count == MAX_ROUTES) {
		fprintf(stderr, "too many routes\n");
		exit(2);
	}
	struct route *r = &routes[route_count++];
	memset(r, 0, sizeof *r);
	r->mask = htonl(len == 0 ? 0 : 0xffffffffu << (32 - len));
	if (inet_pton(AF_INET, net, &r->net) != 1 || inet_pton(AF_INET, peer, &r->peer.sin_addr) != 1) {
		fprintf(stderr, "bad address in route '%s'\n", spec);
		exit(2);
	}
	r->net &= r->mask;
	r->peer.sin_family = AF_INET;
	r->peer.sin_port = htons((uint16_t)port);
}

int main(int argc, char **argv)
{
	const char *bind_ip = NULL, *pattern = "flannel%d";
	int port = 8285, opt;
	long mtu = 1472;
	while ((opt = getopt(argc, argv, "b:p:m:i:s:")) != -1) {
		switch (opt) {
		case 'b': bind_ip = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'm': mtu = atol(optarg); break;
		case 'i': pattern = optarg; break;
		case 's':
			if (inet_pton(AF_INET, optarg, &tun_addr) != 1) {
				fprintf(stderr, "bad -s address\n");
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: %s -b BIND_IP [-p PORT] [-m MTU] [-i IFNAME] [-s TUN_IP] NET/LEN=PEER_IP...\n", argv[0]);
			return 2;
		}
	}
	if (bind_ip == NULL || mtu < 68 || mtu > 65535 || port <= 0 || port > 65535) {
		fprintf(stderr, "need -b BIND_IP; MTU 68..65535; port 1..65535\n");
		return 2;
	}
	for (int i = optind; i < argc; i++)
		add_route(argv[i], port);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() must return EINTR so the loop sees the flag */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	char ifname[IFNAMSIZ];
	int tun = open_tun(pattern, ifname);
	int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (udp < 0)
		die("socket");
	struct sockaddr_in local = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, bind_ip, &local.sin_addr) != 1) {
		fprintf(stderr, "bad -b address\n");
		return 2;
	}
	if (bind(udp, (struct sockaddr *)&local, sizeof local) < 0)
		die("bind");

	uint8_t *buf = malloc((size_t)mtu); /* the one buffer */
	if (buf == NULL)
		die("malloc");
	printf("ready %s\n", ifname);
	fflush(stdout);

	struct pollfd fds[2] = { { .fd = tun, .events = POLLIN }, { .fd = udp, .events = POLLIN } };
	while (!stop_requested) {
		int ready = poll(fds, 2, 1000);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (ready == 0)
			continue;
		/* Drain both directions until neither has anything: avoids one poll per packet. */
		int moved;
		do {
			moved = tun_to_udp(tun, udp, buf, (size_t)mtu);
			moved |= udp_to_tun(udp, tun, buf, (size_t)mtu);
		} while (moved && !stop_requested);
	}
	fprintf(stderr,
		"udpfwd: tun_rx=%llu udp_tx=%llu udp_rx=%llu tun_tx=%llu short=%llu ttl=%llu noroute=%llu oversize=%llu senderr=%llu\n",
		stats.tun_rx, stats.udp_tx, stats.udp_rx, stats.tun_tx, stats.short_drop, stats.ttl_drop,
		stats.no_route, stats.oversize, stats.send_err);
	return 0;
}
