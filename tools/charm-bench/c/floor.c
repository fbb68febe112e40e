/* floor: the least a hook can do, the reference `make bench` compares charms with.
 *
 * It starts, runs one hook tool (`is-leader`, found on PATH as a charm finds it), waits for it
 * and exits: fork + exec + wait. Built like any C program (gcc -O2, the distribution's defaults:
 * dynamically linked, position-independent), so its start-up costs what a program's start-up
 * usually costs.
 */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    pid_t child = fork();
    if (child < 0)
        return 1;
    if (child == 0) {
        execlp("is-leader", "is-leader", "--format=json", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (waitpid(child, &status, 0) != child)
        return 1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
