/* nodelay-shim.c — diagnostic LD_PRELOAD for bench/ only: sets TCP_NODELAY
 * on every socket a process accepts, to measure what Nagle's algorithm
 * (together with the client's delayed ACK) costs certkeeper-ca.  Not a fix;
 * the fix belongs in server/kpr-http.c.
 *   cc -O2 -shared -fPIC bench/nodelay-shim.c -o nodelay-shim.so -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

int
accept4 (int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
  static int (*real) (int, struct sockaddr *, socklen_t *, int);
  int one = 1;
  int s;

  if (!real)
    real = (int (*) (int, struct sockaddr *, socklen_t *, int)) dlsym (RTLD_NEXT, "accept4");
  s = real (fd, addr, len, flags);
  if (s >= 0)
    (void) setsockopt (s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return s;
}
