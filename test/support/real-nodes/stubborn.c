/*
 * A workload that ignores SIGTERM: it stops only when the kubelet kills it at the end of its grace period, so a test
 * can see the kubelet keep the grace period (neither killing early nor leaving it running). Static, built here.
 */
#include <signal.h>
#include <unistd.h>

int main(void) {
  signal(SIGTERM, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  for (;;) pause();
}
