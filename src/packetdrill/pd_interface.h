/*
 * The table of callbacks packetdrill's --so_filename mode fills through
 * packetdrill_interface_init().
 *
 * Reference: gtests/net/packetdrill/packetdrill.h in google/packetdrill
 * (struct packetdrill_interface). This is an independent declaration of the
 * same binary layout: a user-data pointer followed by function pointers, in
 * the upstream order, with the upstream argument types. The order is the ABI:
 * do not reorder, insert or remove members.
 */
#ifndef SYNACK_PD_INTERFACE_H
#define SYNACK_PD_INTERFACE_H

#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* loff_t is a glibc extension (64-bit file offset); a pointer to it has the
 * same representation as a pointer to int64_t. */
typedef int64_t pd_loff_t;

struct packetdrill_interface {
    void *userdata;
    void (*free)(void *userdata);

    /* socket calls, with the argument lists of the libc calls */
    int (*socket)(void *userdata, int domain, int type, int protocol);
    int (*bind)(void *userdata, int fd, const struct sockaddr *addr,
                socklen_t addrlen);
    int (*listen)(void *userdata, int fd, int backlog);
    int (*accept)(void *userdata, int fd, struct sockaddr *addr,
                  socklen_t *addrlen);
    int (*connect)(void *userdata, int fd, const struct sockaddr *addr,
                   socklen_t addrlen);
    ssize_t (*read)(void *userdata, int fd, void *buf, size_t count);
    ssize_t (*readv)(void *userdata, int fd, const struct iovec *iov,
                     int iovcnt);
    ssize_t (*recv)(void *userdata, int fd, void *buf, size_t len,
                    int flags);
    ssize_t (*recvfrom)(void *userdata, int fd, void *buf, size_t len,
                        int flags, struct sockaddr *src_addr,
                        socklen_t *addrlen);
    ssize_t (*recvmsg)(void *userdata, int fd, struct msghdr *msg, int flags);
    ssize_t (*write)(void *userdata, int fd, const void *buf, size_t count);
    ssize_t (*writev)(void *userdata, int fd, const struct iovec *iov,
                      int iovcnt);
    ssize_t (*send)(void *userdata, int fd, const void *buf, size_t len,
                    int flags);
    ssize_t (*sendto)(void *userdata, int fd, const void *buf, size_t len,
                      int flags, const struct sockaddr *dest_addr,
                      socklen_t addrlen);
    ssize_t (*sendmsg)(void *userdata, int fd, const struct msghdr *msg,
                       int flags);
    int (*fcntl)(void *userdata, int fd, int cmd, ...);
    int (*ioctl)(void *userdata, int fd, unsigned long request, ...);
    int (*close)(void *userdata, int fd);
    int (*shutdown)(void *userdata, int fd, int how);
    int (*getsockopt)(void *userdata, int fd, int level, int optname,
                      void *optval, socklen_t *optlen);
    int (*setsockopt)(void *userdata, int fd, int level, int optname,
                      const void *optval, socklen_t optlen);
    int (*poll)(void *userdata, struct pollfd *fds, nfds_t nfds, int timeout);

    /* One raw IP datagram (no link header) into the stack: 0 or -1. */
    int (*netdev_send)(void *userdata, const void *buf, size_t count);
    /* The next IP datagram out of the stack: *count is the room in buf on
     * entry and the datagram length on return; *time_usecs its send time.
     * 0 or -1. */
    int (*netdev_receive)(void *userdata, void *buf, size_t *count,
                          long long *time_usecs);
    int (*usleep)(void *userdata, useconds_t usec);
    int (*gettimeofday)(void *userdata, struct timeval *tv, void *tz);

    int (*epoll_create)(void *userdata, int size);
    int (*epoll_ctl)(void *userdata, int epfd, int op, int fd,
                     struct epoll_event *event);
    int (*epoll_wait)(void *userdata, int epfd, struct epoll_event *events,
                      int maxevents, int timeout);
    int (*pipe)(void *userdata, int pipefd[2]);
    int (*splice)(void *userdata, int fd_in, pd_loff_t *off_in, int fd_out,
                  pd_loff_t *off_out, size_t len, unsigned int flags);
};

/* The one symbol the library exports. */
typedef void (*packetdrill_interface_init_fn)(const char *flags,
                                              struct packetdrill_interface *ifc);

#endif
