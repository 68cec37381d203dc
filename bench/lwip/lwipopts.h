/*
 * lwipopts.h: lwIP in its fastest single-threaded configuration, the
 * reference the synack benchmarks compare against (bench/CMakeLists.txt
 * builds Debian's lwIP source package with it; lwIP itself is never
 * committed).
 *
 * NO_SYS=1 and the raw API only (no threads, no locks, no sockets or
 * netconn); static pools and a static heap (no malloc); MSS 1460, a 64 KiB
 * window (TCP_WND 65535, no scaling) and a 64 KiB send buffer; checksums
 * generated and checked in software, computed while copying on send
 * (LWIP_CHECKSUM_ON_COPY) with lwIP's fastest generic algorithm (3);
 * statistics and assertions off. IPv4, Ethernet framing; no ARP traffic
 * (the benchmark's netif writes the Ethernet header itself, as it does for
 * synack's static ARP entries).
 */
#ifndef BENCH_LWIPOPTS_H
#define BENCH_LWIPOPTS_H

#define NO_SYS 1
#define LWIP_TIMERS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_NETIF_API 0

#define MEM_LIBC_MALLOC 0
#define MEMP_MEM_MALLOC 0
#define MEM_ALIGNMENT 8
#define MEM_SIZE (1024 * 1024)
#define MEMP_NUM_PBUF 4096
#define MEMP_NUM_TCP_PCB 256
#define MEMP_NUM_TCP_PCB_LISTEN 4
#define MEMP_NUM_TCP_SEG 4096
#define MEMP_NUM_REASSDATA 0
#define MEMP_NUM_ARP_QUEUE 8
#define PBUF_POOL_SIZE 1024

#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_UDP 0
#define LWIP_DHCP 0
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define IP_REASSEMBLY 0
#define IP_FRAG 0

#define LWIP_TCP 1
#define TCP_MSS 1460
#define TCP_WND 65535
#define TCP_SND_BUF 65535
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_QUEUE_OOSEQ 1
#define TCP_LISTEN_BACKLOG 0
#define LWIP_CHECKSUM_ON_COPY 1
#define LWIP_CHKSUM_ALGORITHM 3

#define LWIP_STATS 0
#define LWIP_NOASSERT 1
#define LWIP_NETIF_STATUS_CALLBACK 0
#define LWIP_NETIF_LINK_CALLBACK 0

#endif
