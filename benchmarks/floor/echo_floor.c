/* The loopback floor for the server benchmark: a minimal blocking echo server and client exchanging frames of the
 * sizes a single-row SCORE request and its SCORES answer have, one request at a time on one connection.
 * Whatever the scorer adds on top of these round trips is its own cost.
 *
 *   echo_floor server PORT RESPONSE_BYTES
 *   echo_floor client PORT REQUEST_BYTES SECONDS      -> one JSON line of round-trip percentiles in µs
 *   echo_floor client PORT @FRAME_FILE SECONDS        -> the same, sending the frame in FRAME_FILE (a real SCORE
 *                                                        request): the scorer timed by this very client
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int read_full(int fd, unsigned char *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  int port = atoi(argv[2]);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  if (strcmp(argv[1], "server") == 0) {
    size_t response = (size_t)atoi(argv[3]);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&addr, sizeof addr) || listen(s, 16)) { perror("bind"); return 1; }
    unsigned char *out = calloc(1, response), in[1 << 16];
    uint32_t answer = (uint32_t)(response - 4);
    memcpy(out, &answer, 4);
    for (;;) {
      int c = accept(s, NULL, NULL);
      setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      for (;;) {  /* length-prefixed frames in, a fixed-size frame out */
        uint32_t length;
        if (read_full(c, (unsigned char *)&length, 4) || length > sizeof in || read_full(c, in, length)) break;
        if (write(c, out, response) != (ssize_t)response) break;
      }
      close(c);
    }
  }
  size_t request;
  unsigned char *out, in[1 << 16];
  if (argv[3][0] == '@') {
    FILE *f = fopen(argv[3] + 1, "rb");
    if (!f) { perror(argv[3] + 1); return 1; }
    out = malloc(1 << 16);
    request = fread(out, 1, 1 << 16, f);
    fclose(f);
    if (request < 12) { fprintf(stderr, "%s: not a frame\n", argv[3] + 1); return 1; }
  } else {
    request = (size_t)atoi(argv[3]);
    out = calloc(1, request);
    uint32_t length = (uint32_t)(request - 4);
    memcpy(out, &length, 4);
  }
  double seconds = argc > 4 ? atof(argv[4]) : 5;
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(c, (struct sockaddr *)&addr, sizeof addr)) { perror("connect"); return 1; }
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  size_t capacity = 1 << 22, n = 0;
  double *lat = malloc(sizeof(double) * capacity);
  double end = now_us() + seconds * 1e6;
  size_t response = 0;
  while (now_us() < end && n < capacity) {
    double t0 = now_us();
    if (write(c, out, request) != (ssize_t)request) return 1;
    if (response == 0) {  /* learn the answer's size from the first frame */
      uint32_t l;
      if (read_full(c, (unsigned char *)&l, 4) || read_full(c, in, l)) return 1;
      response = l + 4;
      /* A framed request must get its own answer (SCORE 0x04 -> SCORES 0x84), not an ERROR frame timed as one. */
      if (argv[3][0] == '@' && (l < 2 || in[1] != (out[5] | 0x80))) {
        fprintf(stderr, "answer opcode 0x%02x, expected 0x%02x\n", l < 2 ? 0 : in[1], out[5] | 0x80);
        return 1;
      }
    } else if (read_full(c, in, response)) return 1;
    lat[n++] = now_us() - t0;
  }
  qsort(lat, n, sizeof(double), cmp);
  printf("{\"requests\": %zu, \"p50\": %.2f, \"p90\": %.2f, \"p99\": %.2f, \"p99.9\": %.2f, \"max\": %.2f, ", n,
         lat[n / 2], lat[n * 9 / 10], lat[n * 99 / 100], lat[n * 999 / 1000], lat[n - 1]);
  /* The HdrHistogram-style spectrum: percentiles 100·(1 − 2^−k), as loadtest --json reports them. */
  printf("\"percentiles\": [");
  for (int k = 0; k <= 16; k++) {
    double p = 100.0 * (1.0 - 1.0 / (double)(1 << k));
    size_t i = (size_t)(p / 100.0 * (double)(n - 1));
    printf("%s[%.6f, %.2f]", k ? ", " : "", p, lat[i]);
  }
  printf(", [100.0, %.2f]]}\n", lat[n - 1]);
  return 0;
}
