// The extension's one way to put a notification or a question on screen. What these show comes
// from outside the extension too (agents' messages and failure reasons, tool errors, MCP servers'
// prompts, loom.toml problems, folder names), and VS Code makes `[label](command:…)` in a
// notification, a modal's text or an input box's prompt a link that runs the command when
// clicked: an agent's "[Rebuild index](command:…)" ran code outside every sandbox with one click.
// Such text is shown as written, never as a link.
import * as vscode from 'vscode';
import { plainText } from './plainText';

export type Level = 'info' | 'warning' | 'error';

const SHOW = {
  info: vscode.window.showInformationMessage,
  warning: vscode.window.showWarningMessage,
  error: vscode.window.showErrorMessage,
} as const;

/** A notification with its buttons; resolves to the one clicked, or undefined. */
export function notify<T extends string>(level: Level, message: string, ...actions: T[]): Thenable<T | undefined> {
  return SHOW[level](plainText(message), ...actions);
}

/** A modal question with its buttons (one marked isCloseAffordance is what Escape answers; without one, VS Code adds Cancel). */
export function askModal<T extends vscode.MessageItem>(
  level: Level,
  message: string,
  detail: string | undefined,
  ...actions: T[]
): Thenable<T | undefined> {
  const options = { modal: true, ...(detail === undefined ? {} : { detail: plainText(detail) }) };
  const show = SHOW[level] as (
    message: string,
    options: vscode.MessageOptions,
    ...items: T[]
  ) => Thenable<T | undefined>;
  return show(plainText(message), options, ...actions);
}

/** An input box whose title and prompt may come from outside. */
export function askText(
  options: vscode.InputBoxOptions,
  token?: vscode.CancellationToken,
): Thenable<string | undefined> {
  const { title, prompt, placeHolder } = options;
  return vscode.window.showInputBox(
    {
      ...options,
      ...(title === undefined ? {} : { title: plainText(title) }),
      ...(prompt === undefined ? {} : { prompt: plainText(prompt) }),
      ...(placeHolder === undefined ? {} : { placeHolder: plainText(placeHolder) }),
    },
    token,
  );
}
