// The floor for one write(2) per delivery: a minimal event-stream server, one thread with epoll, that
// does nothing but what every push server must. It keeps subscribers (`GET /sub...`) open with an SSE
// response head and, for each `POST` (the body is the event's data), encodes `data: <body>\n\n` once and
// writes those bytes to every subscriber, one write each, in order. No ids, no history, no routing.
// Its deliveries per CPU-second are what one write per delivery costs on this machine (kernel and
// loopback included); sse-fanout and nginx+nchan are measured as fractions of it (BENCHMARKS.md).
//
// A reference kept with the benchmarks, not part of the product: scripts/bench/fanout-compare.sh
// builds it (cc -O2) and runs it as the server named "floor".
//
//   floor-server PORT
//
// Anything else (`GET /`) gets an empty 200, so scripts can poll for it. Listens on 127.0.0.1 only.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_REQUEST 65536
#define MAX_BODY (1 << 20)

enum role { READING, SUBSCRIBER };

struct conn {
    int fd;
    enum role role;
    int slot;           // index in subscribers, for a subscriber
    char *in;           // request bytes so far
    size_t in_len, in_cap;
    char *out;          // bytes a subscriber could not take yet
    size_t out_len, out_cap, out_off;
};

static struct conn **subscribers;
static size_t subscriber_count, subscriber_cap;
static int epfd;
static unsigned long long deliveries, writes, partial;

static const char stream_head[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: keep-alive\r\n\r\n";
static const char accepted[] = "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n";
static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
static const char too_big[] = "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

static void die(const char *what) { perror(what); exit(1); }

static void watch(struct conn *c, unsigned events, int op) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(epfd, op, c->fd, &ev) < 0) die("epoll_ctl");
}

static void drop(struct conn *c) {
    if (c->role == SUBSCRIBER) {
        struct conn *last = subscribers[--subscriber_count];
        subscribers[c->slot] = last;
        last->slot = c->slot;
    }
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
}

static void append(char **buf, size_t *len, size_t *cap, const char *bytes, size_t n) {
    if (*len + n > *cap) {
        *cap = (*len + n) * 2;
        *buf = realloc(*buf, *cap);
        if (!*buf) die("realloc");
    }
    memcpy(*buf + *len, bytes, n);
    *len += n;
}

// Writes what a subscriber has waiting; returns -1 if it is gone.
static int flush_pending(struct conn *c) {
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0) return errno == EAGAIN ? 0 : -1;
        c->out_off += (size_t)n;
    }
    c->out_len = c->out_off = 0;
    watch(c, EPOLLIN, EPOLL_CTL_MOD);
    return 0;
}

static void deliver(struct conn *c, const char *event, size_t n) {
    deliveries++;
    if (c->out_len > c->out_off) {  // already behind: keep the order
        append(&c->out, &c->out_len, &c->out_cap, event, n);
        return;
    }
    writes++;
    ssize_t w = write(c->fd, event, n);
    if (w == (ssize_t)n) return;
    if (w < 0 && errno != EAGAIN) return;  // its close is noticed on the next read
    partial++;
    size_t done = w > 0 ? (size_t)w : 0;
    append(&c->out, &c->out_len, &c->out_cap, event + done, n - done);
    watch(c, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
}

static void broadcast(const char *body, size_t len) {
    static char *event;
    static size_t cap;
    size_t n = len + 8;
    if (n > cap) {
        cap = n;
        event = realloc(event, cap);
        if (!event) die("realloc");
    }
    memcpy(event, "data: ", 6);
    memcpy(event + 6, body, len);
    memcpy(event + 6 + len, "\n\n", 2);
    // A subscriber that fails is dropped only on its next read, so slots do not move during the loop.
    for (size_t i = 0; i < subscriber_count; i++) deliver(subscribers[i], event, n);
}

static void reply(struct conn *c, const char *bytes) {
    ssize_t ignored = write(c->fd, bytes, strlen(bytes));
    (void)ignored;
}

// Handles complete requests in c->in; returns -1 if the connection is to be closed.
static int handle_requests(struct conn *c) {
    for (;;) {
        char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
        if (!end) return c->in_len > MAX_REQUEST ? -1 : 0;
        size_t head_len = (size_t)(end - c->in) + 4;
        size_t body_len = 0;
        char *cl = memmem(c->in, head_len, "\r\nContent-Length:", 17);
        if (!cl) cl = memmem(c->in, head_len, "\r\ncontent-length:", 17);
        if (cl) body_len = strtoul(cl + 17, NULL, 10);
        if (body_len > MAX_BODY) {
            reply(c, too_big);
            return -1;
        }
        if (c->in_len < head_len + body_len) return 0;
        int close_after = memmem(c->in, head_len, "Connection: close", 17) != NULL;
        if (strncmp(c->in, "GET /sub", 8) == 0) {
            if (write(c->fd, stream_head, sizeof stream_head - 1) != (ssize_t)(sizeof stream_head - 1)) return -1;
            c->role = SUBSCRIBER;
            if (subscriber_count == subscriber_cap) {
                subscriber_cap = subscriber_cap ? subscriber_cap * 2 : 1024;
                subscribers = realloc(subscribers, subscriber_cap * sizeof *subscribers);
                if (!subscribers) die("realloc");
            }
            c->slot = (int)subscriber_count;
            subscribers[subscriber_count++] = c;
            c->in_len = 0;  // a subscriber says nothing more that matters
            return 0;
        }
        if (strncmp(c->in, "POST ", 5) == 0) {
            reply(c, accepted);
            broadcast(c->in + head_len, body_len);
        } else {
            reply(c, ok);
            return -1;
        }
        memmove(c->in, c->in + head_len + body_len, c->in_len - head_len - body_len);
        c->in_len -= head_len + body_len;
        if (close_after) return -1;
    }
}

static void readable(struct conn *c) {
    char buf[65536];
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) return drop(c);
    if (c->role == SUBSCRIBER) return;
    append(&c->in, &c->in_len, &c->in_cap, buf, (size_t)n);
    if (handle_requests(c) < 0) drop(c);
}

static void stop(int sig) {
    (void)sig;
    fprintf(stderr, "floor-server: %llu deliveries, %llu writes, %llu partial\n", deliveries, writes, partial);
    _exit(0);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: floor-server PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, stop);
    signal(SIGINT, stop);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
    if (listen(listener, 4096) < 0) die("listen");
    epfd = epoll_create1(0);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &lev);
    struct epoll_event events[512];
    for (;;) {
        int n = epoll_wait(epfd, events, 512, -1);
        if (n < 0 && errno == EINTR) continue;
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *nc = calloc(1, sizeof *nc);
                    nc->fd = fd;
                    nc->role = READING;
                    watch(nc, EPOLLIN, EPOLL_CTL_ADD);
                }
                continue;
            }
            if (events[i].events & EPOLLOUT && c->role == SUBSCRIBER && flush_pending(c) < 0) {
                drop(c);
                continue;
            }
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) readable(c);
        }
    }
}
