/*
 * tap_rate: how many frames per second a Linux TAP device takes from user
 * space -- the ceiling any user-space stack on a TAP meets, whatever its
 * own speed. Writes COUNT full-size Ethernet frames (IPv4/UDP, 1514 bytes,
 * to the kernel's address on the interface, port 9, which nobody listens
 * on) as fast as write() accepts them, and prints frames/s and the Gbit/s
 * they make. Part of bench/tap-throughput, which builds it at run time
 * with cc and runs it in a namespace of its own; not installed.
 *
 * usage: tap_rate IFNAME SRC_IP DST_IP COUNT
 *   (the interface must exist, be up, with DST_IP assigned to it)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define FRAME 1514

static uint16_t csum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: tap_rate IFNAME SRC_IP DST_IP COUNT\n");
        return 2;
    }
    long count = atol(argv[4]);
    struct in_addr src, dst;
    if (inet_pton(AF_INET, argv[2], &src) != 1 ||
        inet_pton(AF_INET, argv[3], &dst) != 1 || count <= 0) {
        fprintf(stderr, "tap_rate: bad address or count\n");
        return 2;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", argv[1]);
    if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
        fprintf(stderr, "tap_rate: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    /* the kernel's MAC, so the frame is for it */
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0 || ioctl(s, SIOCGIFHWADDR, &ifr) < 0) {
        fprintf(stderr, "tap_rate: read MAC: %s\n", strerror(errno));
        return 1;
    }
    close(s);
    uint8_t f[FRAME];
    memset(f, 0x5a, sizeof f);
    memcpy(f, ifr.ifr_hwaddr.sa_data, 6);
    const uint8_t me[6] = {0x02, 0, 0, 0, 0x7a, 0x9e};
    memcpy(f + 6, me, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    ip[2] = (FRAME - 14) >> 8;
    ip[3] = (FRAME - 14) & 0xff;
    ip[6] = 0x40; /* DF */
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, &src, 4);
    memcpy(ip + 16, &dst, 4);
    uint16_t c = csum(ip, 20);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    uint8_t *udp = ip + 20;
    udp[0] = 0x9c;
    udp[1] = 0x40; /* 40000 */
    udp[2] = 0;
    udp[3] = 9;
    udp[4] = (FRAME - 34) >> 8;
    udp[5] = (FRAME - 34) & 0xff;
    udp[6] = udp[7] = 0; /* no UDP checksum */
    struct timespec t0, t1;
    long ok = 0, refused = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < count; i++) {
        if (write(fd, f, sizeof f) == (ssize_t)sizeof f)
            ok++;
        else
            refused++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("frames=%ld refused=%ld seconds=%.3f fps=%.0f gbps=%.2f\n", ok,
           refused, secs, (double)ok / secs,
           (double)ok * FRAME * 8 / secs / 1e9);
    close(fd);
    return 0;
}
