/*
 * loom-close-fds PROGRAM [ARGUMENT...]
 *
 * Closes every descriptor above stderr, then runs PROGRAM (a path; PATH is not searched) in its
 * place: same pid, same environment. The runtime starts bubblewrap through it, because LevelDB
 * opens the store's files without close-on-exec, Node cannot mark them, and neither Node nor
 * bwrap closes what a child inherits (see index.ts). esbuild.mjs builds it into
 * <outdir>/bin/loom-close-fds; without it the runtime does the same with bash, about a
 * millisecond slower a call.
 *
 * Written without the C library, on purpose: a program linked with glibc (static or dynamic)
 * spends about half a millisecond starting, most of what this replaces bash to save. So it has its
 * own entry point and system-call stubs, for x86-64 and AArch64; elsewhere the build fails and the
 * runtime uses bash. It fails closed: if close_range(2) is refused (Linux before 5.9), nothing runs.
 */
#include <sys/syscall.h>

#define EXIT_SETUP_FAILED 126 /* as a shell says of a command it could not run */
#define EXIT_NOT_RUN 127

static long syscall3(long number, long a, long b, long c) {
#if defined(__x86_64__)
  long result;
  __asm__ volatile("syscall"
                   : "=a"(result)
                   : "a"(number), "D"(a), "S"(b), "d"(c)
                   : "rcx", "r11", "memory");
  return result;
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = number;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  return x0;
#else
#error "loom-close-fds has no system-call stubs for this architecture; the runtime uses bash instead"
#endif
}

static void say(const char *text) {
  long length = 0;
  while (text[length]) length++;
  syscall3(SYS_write, 2, (long)text, length);
}

__attribute__((noreturn)) static void fail(const char *what, const char *subject, int status) {
  say("loom-close-fds: ");
  say(what);
  if (subject) say(subject);
  say("\n");
  syscall3(SYS_exit_group, status, 0, 0);
  for (;;) {
  }
}

/* Called by _start with the initial stack: argc, then argv[0..argc-1], NULL, then the environment. */
__attribute__((used, noreturn)) void loom_close_fds_main(long *stack) {
  long argc = stack[0];
  char **argv = (char **)(stack + 1);
  char **envp = argv + argc + 1;
  if (argc < 2) fail("usage: loom-close-fds PROGRAM [ARGUMENT...]", 0, EXIT_SETUP_FAILED);
  if (syscall3(SYS_close_range, 3, ~0U, 0) != 0)
    fail("close_range failed (Linux 5.9 or newer is needed); nothing was run", 0, EXIT_SETUP_FAILED);
  syscall3(SYS_execve, (long)argv[1], (long)(argv + 1), (long)envp);
  fail("cannot run ", argv[1], EXIT_NOT_RUN);
}

#if defined(__x86_64__)
__asm__(".globl _start\n_start:\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call loom_close_fds_main\n  hlt\n");
#elif defined(__aarch64__)
__asm__(".globl _start\n_start:\n  mov x0, sp\n  bl loom_close_fds_main\n  brk #0\n");
#endif
