// Linux's epoll and eventfd, which Swift's Glibc module leaves out: the load tool's epoll reader reads
// thousands of streams on one thread with them (sse-bench broadcast --reader epoll).
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <time.h>
