/**
 * berth's builtin seccomp profile: the facts of moby's default profile
 * (github.com/moby/profiles/seccomp/default.json, as vendored in moby/moby), written as named
 * groups. Everything not allowed here fails with EPERM. Rules conditioned on capabilities are
 * resolved against the container's bounding set (resolve.ts), so adding a capability also
 * allows the syscalls that need it, as in Docker.
 *
 * Refreshing from moby: see scripts/seccomp-facts.mjs — it regenerates the fact file the unit
 * test compares this profile against; edit the groups below until the test passes again.
 */
import type { ArchMapEntry, DockerSeccompProfile, DockerSyscallRule, SeccompArg, SyscallCondition } from './docker-profile.ts';

const EPERM = 1;
const ENOSYS = 38;

/** Sending, catching and waiting for signals. */
const SIGNALS = [
  'kill', 'pause', 'pidfd_send_signal', 'restart_syscall', 'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask',
  'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend', 'rt_sigtimedwait', 'rt_sigtimedwait_time64',
  'rt_tgsigqueueinfo', 'sigaltstack', 'signalfd', 'signalfd4', 'sigprocmask', 'sigreturn', 'tgkill', 'tkill',
];

/** Clocks, sleeping, timers, file times, and the _time64 variants 32-bit arches use. */
const TIME_AND_TIMERS = [
  'adjtimex', 'alarm', 'clock_adjtime', 'clock_adjtime64', 'clock_getres', 'clock_getres_time64', 'clock_gettime',
  'clock_gettime64', 'clock_nanosleep', 'clock_nanosleep_time64', 'futex_time64', 'futimesat', 'getitimer',
  'gettimeofday', 'io_pgetevents_time64', 'mq_timedreceive', 'mq_timedreceive_time64', 'mq_timedsend',
  'mq_timedsend_time64', 'nanosleep', 'ppoll_time64', 'pselect6_time64', 'recvmmsg_time64',
  'sched_rr_get_interval_time64', 'semtimedop', 'semtimedop_time64', 'setitimer', 'time', 'timer_create',
  'timer_delete', 'timer_getoverrun', 'timer_gettime', 'timer_gettime64', 'timer_settime', 'timer_settime64',
  'timerfd_create', 'timerfd_gettime', 'timerfd_gettime64', 'timerfd_settime', 'timerfd_settime64', 'times', 'utime',
  'utimensat', 'utimensat_time64', 'utimes',
];

/** Socket calls on an existing socket (socket(2) itself is argument-filtered, below). */
const SOCKETS = [
  'accept', 'accept4', 'bind', 'connect', 'getpeername', 'getsockname', 'getsockopt', 'listen', 'recv', 'recvfrom',
  'recvmmsg', 'recvmsg', 'send', 'sendfile', 'sendfile64', 'sendmmsg', 'sendmsg', 'sendto', 'setsockopt', 'shutdown',
  'socketcall', 'socketpair',
];

/** System V and POSIX IPC (namespaced by the ipc namespace). */
const SYSV_AND_POSIX_IPC = [
  'ipc', 'mq_getsetattr', 'mq_notify', 'mq_open', 'mq_unlink', 'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'semctl',
  'semget', 'semop', 'shmat', 'shmctl', 'shmdt', 'shmget',
];

/** Polling, event fds, inotify, futexes and AIO. */
const EVENTS_AND_ASYNC_IO = [
  'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_pwait', 'epoll_pwait2', 'epoll_wait',
  'epoll_wait_old', 'eventfd', 'eventfd2', 'fanotify_mark', 'futex', 'futex_requeue', 'futex_wait', 'futex_waitv',
  'futex_wake', 'inotify_add_watch', 'inotify_init', 'inotify_init1', 'inotify_rm_watch', 'io_cancel', 'io_destroy',
  'io_getevents', 'io_pgetevents', 'ioprio_get', 'ioprio_set', 'io_setup', 'io_submit', 'membarrier', '_newselect',
  'poll', 'ppoll', 'pselect6', 'select',
];

/** Mapping and locking the process's own memory. */
const MEMORY = [
  'brk', 'madvise', 'map_shadow_stack', 'memfd_create', 'memfd_secret', 'mincore', 'mlock', 'mlock2', 'mlockall',
  'mmap', 'mmap2', 'mprotect', 'mremap', 'mseal', 'msync', 'munlock', 'munlockall', 'munmap', 'pkey_alloc',
  'pkey_free', 'pkey_mprotect', 'process_mrelease', 'remap_file_pages',
];

/** Reading and changing the process's own ids and capabilities (the kernel checks CAP_SETUID and friends). */
const CREDENTIALS = [
  'capget', 'capset', 'getegid', 'getegid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getgroups',
  'getgroups32', 'getpgid', 'getpgrp', 'getresgid', 'getresgid32', 'getresuid', 'getresuid32', 'getsid', 'getuid',
  'getuid32', 'setfsgid', 'setfsgid32', 'setfsuid', 'setfsuid32', 'setgid', 'setgid32', 'setgroups', 'setgroups32',
  'setpgid', 'setregid', 'setregid32', 'setresgid', 'setresgid32', 'setresuid', 'setresuid32', 'setreuid',
  'setreuid32', 'setsid', 'setuid', 'setuid32',
];

/** Process life cycle, scheduling, limits and self-sandboxing (seccomp, landlock). */
const PROCESSES = [
  'execve', 'execveat', 'exit', 'exit_group', 'fork', 'getcpu', 'getpid', 'getppid', 'getpriority', 'getrandom',
  'getrlimit', 'get_robust_list', 'getrusage', 'get_thread_area', 'gettid', 'landlock_add_rule',
  'landlock_create_ruleset', 'landlock_restrict_self', 'pidfd_open', 'prctl', 'prlimit64', 'riscv_hwprobe', 'rseq',
  'sched_getaffinity', 'sched_getattr', 'sched_getparam', 'sched_get_priority_max', 'sched_get_priority_min',
  'sched_getscheduler', 'sched_rr_get_interval', 'sched_setaffinity', 'sched_setattr', 'sched_setparam',
  'sched_setscheduler', 'sched_yield', 'seccomp', 'setpriority', 'setrlimit', 'set_robust_list', 'set_thread_area',
  'set_tid_address', 'sysinfo', 'ugetrlimit', 'umask', 'uname', 'uretprobe', 'vfork', 'wait4', 'waitid', 'waitpid',
];

/** Files, directories, pipes, extended attributes and file descriptors. */
const FILES = [
  'access', 'cachestat', 'chdir', 'chmod', 'chown', 'chown32', 'close', 'close_range', 'copy_file_range', 'creat',
  'dup', 'dup2', 'dup3', 'faccessat', 'faccessat2', 'fadvise64', 'fadvise64_64', 'fallocate', 'fchdir', 'fchmod',
  'fchmodat', 'fchmodat2', 'fchown', 'fchown32', 'fchownat', 'fcntl', 'fcntl64', 'fdatasync', 'fgetxattr',
  'flistxattr', 'flock', 'fremovexattr', 'fsetxattr', 'fstat', 'fstat64', 'fstatat64', 'fstatfs', 'fstatfs64',
  'fsync', 'ftruncate', 'ftruncate64', 'getcwd', 'getdents', 'getdents64', 'getxattr', 'getxattrat', 'ioctl',
  'lchown', 'lchown32', 'lgetxattr', 'link', 'linkat', 'listmount', 'listxattr', 'listxattrat', 'llistxattr',
  '_llseek', 'lremovexattr', 'lseek', 'lsetxattr', 'lstat', 'lstat64', 'mkdir', 'mkdirat', 'mknod', 'mknodat',
  'name_to_handle_at', 'newfstatat', 'open', 'openat', 'openat2', 'pipe', 'pipe2', 'pread64', 'preadv', 'preadv2',
  'pwrite64', 'pwritev', 'pwritev2', 'read', 'readahead', 'readlink', 'readlinkat', 'readv', 'removexattr',
  'removexattrat', 'rename', 'renameat', 'renameat2', 'rmdir', 'setxattr', 'setxattrat', 'splice', 'stat', 'stat64',
  'statfs', 'statfs64', 'statmount', 'statx', 'symlink', 'symlinkat', 'sync', 'sync_file_range', 'syncfs', 'tee',
  'truncate', 'truncate64', 'unlink', 'unlinkat', 'vmsplice', 'write', 'writev',
];

/** Allowed for everyone, on every architecture. */
const BASELINE = [
  ...FILES, ...PROCESSES, ...CREDENTIALS, ...MEMORY, ...SIGNALS, ...TIME_AND_TIMERS, ...SOCKETS,
  ...EVENTS_AND_ASYNC_IO, ...SYSV_AND_POSIX_IPC,
];

/** Before Linux 4.8 a ptrace-d process could get around seccomp, so these need a newer kernel. */
const PTRACE_FAMILY = ['process_vm_readv', 'process_vm_writev', 'ptrace'];

/** socket(2) for every address family but AF_ALG (38) and AF_VSOCK (40). */
const AF_ALG = 38;
const AF_NFC = 39;
const AF_VSOCK = 40;

/** personality(2) values that only change the uname / 32-bit view, never the address layout. */
const PER_LINUX = 0x0;
const PER_LINUX32 = 0x8;
const UNAME26 = 0x0020000;
const PERSONALITY_QUERY = 0xffffffff;
const ALLOWED_PERSONALITIES = [PER_LINUX, PER_LINUX32, UNAME26, UNAME26 | PER_LINUX32, PERSONALITY_QUERY];

/** clone(2) flags that create namespaces: without CAP_SYS_ADMIN, clone must pass none of them. */
const CLONE_NEWNS = 0x00020000;
const CLONE_NEWCGROUP = 0x02000000;
const CLONE_NEWUTS = 0x04000000;
const CLONE_NEWIPC = 0x08000000;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWPID = 0x20000000;
const CLONE_NEWNET = 0x40000000;
const CLONE_NAMESPACE_FLAGS = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;

/** Architecture-only syscalls, keyed by the libseccomp arch names that get them. */
const ARCH_SPECIFIC: Array<{ arches: string[]; names: string[] }> = [
  { arches: ['ppc64le'], names: ['sync_file_range2', 'swapcontext'] },
  { arches: ['arm', 'arm64'], names: ['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls'] },
  { arches: ['amd64', 'x32'], names: ['arch_prctl'] },
  { arches: ['amd64', 'x32', 'x86'], names: ['modify_ldt'] },
  { arches: ['s390', 's390x'], names: ['s390_pci_mmio_read', 's390_pci_mmio_write', 's390_runtime_instr'] },
  { arches: ['riscv64'], names: ['riscv_flush_icache'] },
];

/** Syscalls allowed only with a capability (the kernel checks it too; seccomp narrows the attack surface). */
const NEEDS_SYS_ADMIN = [
  'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie',
  'lsm_get_self_attr', 'lsm_list_modules', 'lsm_set_self_attr', 'mount', 'mount_setattr', 'move_mount', 'open_tree',
  'perf_event_open', 'quotactl', 'quotactl_fd', 'setdomainname', 'sethostname', 'setns', 'syslog', 'umount', 'umount2',
  'unshare',
];
const CAPABILITY_GATED_BEFORE_CLONE: Array<{ cap: string; names: string[] }> = [
  { cap: 'CAP_DAC_READ_SEARCH', names: ['open_by_handle_at'] },
  { cap: 'CAP_SYS_ADMIN', names: NEEDS_SYS_ADMIN },
];
const CAPABILITY_GATED: Array<{ cap: string; names: string[] }> = [
  { cap: 'CAP_SYS_BOOT', names: ['reboot'] },
  { cap: 'CAP_SYS_CHROOT', names: ['chroot'] },
  { cap: 'CAP_SYS_MODULE', names: ['delete_module', 'init_module', 'finit_module'] },
  { cap: 'CAP_SYS_PACCT', names: ['acct'] },
  { cap: 'CAP_SYS_PTRACE', names: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'] },
  { cap: 'CAP_SYS_RAWIO', names: ['iopl', 'ioperm'] },
  { cap: 'CAP_SYS_TIME', names: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64'] },
  { cap: 'CAP_SYS_TTY_CONFIG', names: ['vhangup'] },
  { cap: 'CAP_SYS_NICE', names: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'] },
  { cap: 'CAP_SYSLOG', names: ['syslog'] },
  { cap: 'CAP_BPF', names: ['bpf'] },
  { cap: 'CAP_PERFMON', names: ['perf_event_open'] },
];

/** The filter covers the native ABI and the compat ABIs a process on it can switch to. */
const ARCH_MAP: ArchMapEntry[] = [
  { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
  { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
  { architecture: 'SCMP_ARCH_MIPS64', subArchitectures: ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64N32'] },
  { architecture: 'SCMP_ARCH_MIPS64N32', subArchitectures: ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64'] },
  { architecture: 'SCMP_ARCH_MIPSEL64', subArchitectures: ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64N32'] },
  { architecture: 'SCMP_ARCH_MIPSEL64N32', subArchitectures: ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64'] },
  { architecture: 'SCMP_ARCH_S390X', subArchitectures: ['SCMP_ARCH_S390'] },
  { architecture: 'SCMP_ARCH_RISCV64', subArchitectures: null },
  { architecture: 'SCMP_ARCH_LOONGARCH64', subArchitectures: null },
];

const allow = (names: string[], extra: Partial<DockerSyscallRule> = {}): DockerSyscallRule => ({ names, action: 'SCMP_ACT_ALLOW', ...extra });
const arg = (index: number, op: SeccompArg['op'], value: number): SeccompArg => ({ index, value, op });
const withCap = (cap: string): SyscallCondition => ({ caps: [cap] });

export const BUILTIN_SECCOMP_PROFILE: DockerSeccompProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: EPERM,
  archMap: ARCH_MAP,
  syscalls: [
    allow(BASELINE),
    allow(PTRACE_FAMILY, { includes: { minKernel: '4.8' } }),
    allow(['socket'], { args: [arg(0, 'SCMP_CMP_LT', AF_ALG)] }),
    allow(['socket'], { args: [arg(0, 'SCMP_CMP_EQ', AF_NFC)] }),
    allow(['socket'], { args: [arg(0, 'SCMP_CMP_GT', AF_VSOCK)] }),
    ...ALLOWED_PERSONALITIES.map((p) => allow(['personality'], { args: [arg(0, 'SCMP_CMP_EQ', p)] })),
    ...ARCH_SPECIFIC.map(({ arches, names }) => allow(names, { includes: { arches } })),
    ...CAPABILITY_GATED_BEFORE_CLONE.map(({ cap, names }) => allow(names, { includes: withCap(cap) })),
    // Without CAP_SYS_ADMIN: clone only without namespace flags (flags are argument 1 on s390),
    // and clone3 fails with ENOSYS so libc falls back to clone, whose flags seccomp can see.
    allow(['clone'], { args: [arg(0, 'SCMP_CMP_MASKED_EQ', CLONE_NAMESPACE_FLAGS)], excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] } }),
    allow(['clone'], { args: [arg(1, 'SCMP_CMP_MASKED_EQ', CLONE_NAMESPACE_FLAGS)], includes: { arches: ['s390', 's390x'] }, excludes: { caps: ['CAP_SYS_ADMIN'] } }),
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, excludes: { caps: ['CAP_SYS_ADMIN'] } },
    ...CAPABILITY_GATED.map(({ cap, names }) => allow(names, { includes: withCap(cap) })),
  ],
};
