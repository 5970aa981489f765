// The two questions the MCP features put to the person at the keyboard: a modal confirmation and
// an input box for a secret. Behind one seam so that the extension-host tests, which cannot click
// a modal dialog of the workbench, can answer them; the scripted answers exist only in
// ExtensionMode.Test (a test run with extensionTestsPath), never in an installed extension.
import * as vscode from 'vscode';
import { askModal, askText } from '../notify';

export interface ModalQuestion {
  message: string;
  detail: string;
  /** Button titles, the safe answer first: the first has the focus. Escape answers undefined. */
  choices: string[];
}

export interface InputQuestion {
  title: string;
  prompt: string;
  password: boolean;
}

export interface McpUi {
  /** The chosen button's title, or undefined when dismissed. */
  modal(q: ModalQuestion, signal?: AbortSignal): Promise<string | undefined>;
  /** The text entered, or undefined when dismissed. */
  input(q: InputQuestion): Promise<string | undefined>;
}

/** What a scripted question recorded: the question, never the answer (it may be a secret). */
export type AskedQuestion = ({ kind: 'modal' } & ModalQuestion) | ({ kind: 'input' } & InputQuestion);

export const vscodeUi: McpUi = {
  async modal(q, signal) {
    // The first choice gets the focus, so a key pressed for the editor (Space, Enter) answers it:
    // callers list the safe answer first. No choice is the close affordance, which VS Code would
    // move aside: Escape answers with VS Code's own Cancel, undefined.
    const items: vscode.MessageItem[] = q.choices.map((title) => ({ title }));
    // A modal cannot be closed from here: when the call's time runs out the answer is "dismissed"
    // and a late click is ignored.
    const answer = askModal('warning', q.message, q.detail, ...items);
    const aborted = new Promise<undefined>((resolve) => {
      if (signal?.aborted) resolve(undefined);
      signal?.addEventListener('abort', () => resolve(undefined), { once: true });
    });
    return (await Promise.race([answer, aborted]))?.title;
  },
  async input(q) {
    return askText({ title: q.title, prompt: q.prompt, password: q.password, ignoreFocusOut: true });
  },
};

/** Answers questions from a queue while it has answers (null = dismissed), then asks for real. */
export class ScriptedUi implements McpUi {
  private answers: (string | null)[] = [];
  readonly asked: AskedQuestion[] = [];

  constructor(private readonly real: McpUi) {}

  script(answers: (string | null)[]): void {
    this.answers.push(...answers);
  }

  reset(): void {
    this.answers = [];
    this.asked.length = 0;
  }

  private next(): { scripted: boolean; answer: string | undefined } {
    if (!this.answers.length) return { scripted: false, answer: undefined };
    return { scripted: true, answer: this.answers.shift() ?? undefined };
  }

  modal(q: ModalQuestion, signal?: AbortSignal): Promise<string | undefined> {
    const { scripted, answer } = this.next();
    if (!scripted) return this.real.modal(q, signal);
    this.asked.push({ kind: 'modal', ...q });
    return Promise.resolve(answer);
  }

  input(q: InputQuestion): Promise<string | undefined> {
    const { scripted, answer } = this.next();
    if (!scripted) return this.real.input(q);
    this.asked.push({ kind: 'input', ...q });
    return Promise.resolve(answer);
  }
}

/** Not contributed (no palette entry) and registered only in ExtensionMode.Test. */
export const TEST_UI_COMMAND = 'loom.test.mcpUi';

/**
 * The UI the MCP features use: the real one, or in a test run the scripted one, driven by
 * `loom.test.mcpUi {answers?, reset?}`, which returns the questions asked so far.
 */
export function mcpUi(context: vscode.ExtensionContext, disposables: vscode.Disposable[]): McpUi {
  if (context.extensionMode !== vscode.ExtensionMode.Test) return vscodeUi;
  const scripted = new ScriptedUi(vscodeUi);
  disposables.push(
    vscode.commands.registerCommand(TEST_UI_COMMAND, (arg?: { answers?: (string | null)[]; reset?: boolean }) => {
      if (arg?.reset) scripted.reset();
      if (arg?.answers) scripted.script(arg.answers);
      return [...scripted.asked];
    }),
  );
  return scripted;
}
