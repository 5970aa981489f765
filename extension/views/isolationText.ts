// What the runtime status bar item says about the OS isolation of system:shell (GetStats'
// IsolationInfo), apart from the item: no vscode here, so it is unit-tested.

export interface IsolationFacts {
  /** [tools.shell] isolation: "required", "best-effort" or "off". */
  mode: string;
  available: boolean;
  /** "bubblewrap", or "none". */
  mechanism: string;
  /** The bwrap path, or what is missing and how to get it. */
  detail: string;
  trusted: boolean;
}

export interface IsolationNotice {
  /** The item takes the warning look: system:shell refuses every command. */
  warning: boolean;
  /** A line for the tooltip. */
  text: string;
}

const SETTING = 'tools.shell.isolation';

/** The tooltip line (and whether to warn) for a runtime's isolation; undefined when there is nothing to say (an older runtime, or an untrusted workspace, which runs no shell at all). */
export function isolationNotice(info: IsolationFacts | null | undefined): IsolationNotice | undefined {
  if (!info || !info.mode || !info.trusted) return undefined;
  const setting = `${SETTING} = "${info.mode}"`;
  const detail = info.detail.replace(/\.$/, '');
  if (info.mode === 'off') {
    return {
      warning: false,
      text: `OS isolation is off (${setting} in loom.toml): system:shell runs commands unconfined, held back by its argument rules only.`,
    };
  }
  if (info.available) {
    return { warning: false, text: `system:shell runs commands under ${info.mechanism} (${setting}).` };
  }
  if (info.mode === 'best-effort') {
    return {
      warning: false,
      text: `system:shell runs commands unconfined: OS isolation is unavailable (${setting}): ${detail}.`,
    };
  }
  return {
    warning: true,
    text: `system:shell refuses: OS isolation is required (${setting}) and unavailable: ${detail}. To run commands unconfined instead, set ${SETTING} = "best-effort" or "off" in loom.toml.`,
  };
}
