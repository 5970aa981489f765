// [tools.shell] preset = "reference": the programs the reference's system:shell allows (its core
// registers 58 in core/src/lib.rs), opt-in, added to [tools.shell] allow ONLY for commands that
// run under OS isolation (the call is refused otherwise, see shell.ts): the sandbox is the
// boundary, and no preset widens what an unconfined command may do. Each program was checked for
// options that read, write or run something outside the workspace; those with such options carry
// argument rules in shell-policy.ts, and those whose danger no rule can hold are left out below.

export type ShellPreset = 'none' | 'reference';

/** The reference's list, in its order, minus LEFT_OUT. */
export const REFERENCE_PROGRAMS: readonly string[] = [
  // files: find (-exec, -delete, -fprint, -L… refused), ls (-L refused), file (-f refused)
  'ls',
  'pwd',
  'find',
  'which',
  'whereis',
  'file',
  'stat',
  'realpath',
  'readlink',
  'basename',
  'dirname',
  // contents: less runs with LESSSECURE and its file options refused; more copies like cat (its output is never a terminal)
  'cat',
  'head',
  'tail',
  'less',
  'more',
  'wc',
  // text: sed always with --sandbox (no e/r/w), sort -o refused, uniq's output operand refused, diff with --no-dereference
  'grep',
  'sed',
  'sort',
  'uniq',
  'cut',
  'tr',
  'diff',
  // system: env prints only (arguments refused); ps and top see the sandbox's own PID namespace (top needs -b: no terminal)
  'echo',
  'date',
  'whoami',
  'hostname',
  'uname',
  'env',
  'printenv',
  'df',
  'du',
  'free',
  'uptime',
  'ps',
  'top',
  // network: nothing to reach unless [tools.shell] network = true; ip (netns/vrf exec, -batch) and ss (-D, -K, -N) have rules
  'ping',
  'nslookup',
  'dig',
  'host',
  'ifconfig',
  'ip',
  'netstat',
  'ss',
  // git: a subset of subcommands, with the config that launches programs pinned off
  'git',
];

/** The reference's programs this preset leaves out, and why: no argument rule can keep them from running code or reaching files. */
export const LEFT_OUT: Readonly<Record<string, string>> = {
  awk: 'system(), "cmd" | getline and print > "file" run programs and write files from the script itself (mawk, the usual awk, has no sandbox switch)',
  python: 'an interpreter: runs arbitrary code',
  python3: 'an interpreter: runs arbitrary code',
  node: 'an interpreter: runs arbitrary code',
  npm: 'runs package scripts (npm run, install hooks): arbitrary code',
  cargo: 'runs build scripts and `cargo run`, and config aliases: arbitrary code',
  rustc: '-C linker=PROGRAM runs any program, and procedural macros run code at compile time',
  make: "a Makefile's recipes are shell commands",
  cmake: '-P scripts and execute_process run programs; -E runs commands',
  htop: 'interactive only (needs a terminal), and its keys start strace and lsof on processes',
  curl: 'too many options read or write files for rules to cover (-o, -K config, -d @file, -T, --trace, file:// URLs)',
  wget: '--use-askpass runs a program, -e runs wgetrc commands, -i/-O/--post-file read and write files it names',
};

/** The programs a preset adds to [tools.shell] allow. */
export function presetPrograms(preset: ShellPreset): readonly string[] {
  return preset === 'reference' ? REFERENCE_PROGRAMS : [];
}
