/* cpu-stub: a hook tool that first reads its caller's CPU clock, then becomes the real tool.
 *
 * `make bench` points the local model's hook-tool links at this program. Each time a charm (or
 * the floor program) runs a hook tool, the stub reads the caller's own CPU time so far
 * (clock_gettime on clock_getcpuclockid(getppid()): all the caller's threads, none of its
 * children), appends one line to $CHARM_BENCH_CPU_LOG, and execs $CHARM_BENCH_TOOL (juju-local)
 * with its argv unchanged, so the tool name in argv[0] still picks the tool. The caller waits for
 * the tool meanwhile, so nothing the stub or the tool does is counted in the caller's clock.
 *
 * Line format (tab-separated): context id, unit, dispatch path, tool, caller pid, CPU ns.
 * Static and tiny, so that it adds little wall time; it never fails the tool call because of
 * the measurement (a log that cannot be written is skipped, not fatal).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *env_or(const char *name, const char *fallback) {
    const char *v = getenv(name);
    return v ? v : fallback;
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int main(int argc, char **argv) {
    pid_t caller = getppid();
    clockid_t clock;
    struct timespec cpu = {0, 0};
    int have = clock_getcpuclockid(caller, &clock) == 0 && clock_gettime(clock, &cpu) == 0;
    const char *log = getenv("CHARM_BENCH_CPU_LOG");
    if (have && log != NULL) {
        char line[1024];
        int n = snprintf(line, sizeof line, "%s\t%s\t%s\t%s\t%ld\t%lld\n",
                         env_or("JUJU_CONTEXT_ID", "-"), env_or("JUJU_UNIT_NAME", "-"),
                         env_or("JUJU_DISPATCH_PATH", "-"), argc > 0 ? base_name(argv[0]) : "-",
                         (long)caller, (long long)cpu.tv_sec * 1000000000LL + cpu.tv_nsec);
        int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0 && n > 0 && (size_t)n < sizeof line) {
            /* One write with O_APPEND: lines of concurrent callers never interleave. */
            ssize_t w = write(fd, line, (size_t)n);
            (void)w;
        }
        if (fd >= 0)
            close(fd);
    }
    const char *tool = getenv("CHARM_BENCH_TOOL");
    if (tool == NULL) {
        fprintf(stderr, "cpu-stub: CHARM_BENCH_TOOL (the real hook-tool binary) is not set\n");
        return 127;
    }
    execv(tool, argv);
    fprintf(stderr, "cpu-stub: cannot exec %s: %s\n", tool, strerror(errno));
    return 127;
}
