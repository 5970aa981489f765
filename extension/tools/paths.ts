// Files named by agents go through the runtime's own file sandbox (runtime/contract/sandbox.ts), so
// the editor tools confine paths exactly as the runtime's file tools do: real paths with every
// symlink followed (dangling ones too), `..` applied as the kernel does, the workspace folders as
// roots, and no writes into .git or the runtime's data folder.
import { closeSync, constants, fstatSync, openSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { relative } from 'node:path';
import * as vscode from 'vscode';
import { messageOf, Sandbox, ToolError } from '../../runtime/contract';
import { ToolFailure } from '../bridge/client';

/** The workspace folders on disk: the first is the base for relative paths, the others extra roots. */
function workspaceSandbox(tool: string): Sandbox {
  const folders = (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === 'file')
    .map((f) => f.uri.fsPath);
  if (!folders.length) throw new ToolFailure('TOOL_ERROR', 'denied', `${tool}: no workspace folder is open`);
  const [workspace, ...others] = folders;
  return new Sandbox(Sandbox.optionsForClient(workspace!, others));
}

/** An absolute, real path inside a workspace folder (allowed to be changed for 'write'), or a ToolFailure saying why not. */
export async function resolveInWorkspace(tool: string, path: string, access: 'read' | 'write'): Promise<string> {
  try {
    const sandbox = workspaceSandbox(tool);
    return (access === 'write' ? await sandbox.resolveForWrite(path) : await sandbox.resolve(path)).real;
  } catch (err) {
    if (!(err instanceof ToolError)) throw err;
    throw new ToolFailure(
      err.code === 'invalid_arguments' ? 'TOOL_INVALID_ARGUMENTS' : 'TOOL_ERROR',
      err.code,
      `${tool}: ${err.message}`,
    );
  }
}

/**
 * For a tool called without a path, on the active editor's document: it must be what a path
 * argument could name — a file inside the workspace folders, with the same rules (for 'write': not
 * in .git nor the data folder) — or an untitled document, which is nobody's file yet. Anything else
 * (a file outside the workspace, the user's settings, a diff view, output) is refused, naming it:
 * an agent must not reach past the workspace because a person happens to look at another file.
 */
export async function checkActiveDocument(tool: string, uri: vscode.Uri, access: 'read' | 'write'): Promise<void> {
  if (uri.scheme === 'untitled') return;
  const hint = 'open a workspace file, or pass "path"';
  if (uri.scheme !== 'file') {
    throw new ToolFailure(
      'TOOL_ERROR',
      'denied',
      `${tool}: the active editor shows ${uri.toString(true)}, which is not a file of the workspace (${tool} works on workspace files and untitled documents only; ${hint})`,
    );
  }
  try {
    const sandbox = workspaceSandbox(tool);
    await (access === 'write' ? sandbox.resolveForWrite(uri.fsPath) : sandbox.resolve(uri.fsPath));
  } catch (err) {
    if (!(err instanceof ToolError)) throw err;
    const outside = err.details?.['resolved'] !== undefined; // the sandbox's "outside the workspace roots"
    const why = outside
      ? `which lies outside the workspace folders (${vscode.workspace.workspaceFolders?.map((f) => f.uri.fsPath).join(', ')})`
      : `and ${err.message}`;
    throw new ToolFailure('TOOL_ERROR', err.code, `${tool}: the active editor shows ${uri.fsPath}, ${why}; ${hint}`);
  }
}

/**
 * That a file's document in the editor is, now, the workspace file it names, holding what that
 * file holds. VS Code reads, reloads and saves a document by path with every symlink followed,
 * after the checks above: an agent that swapped a symlink in for a file it had opened got the tab
 * reloaded from the link's target (a key outside the workspace, the data folder's token), swapped
 * the file back, and read the target's text through editor:replace or edited it for the next save.
 * So the file is opened once, here; what that descriptor leads to is checked by the workspace's
 * rules; and a document without unsaved changes must hold what the descriptor reads.
 */
export async function checkDocumentOnDisk(
  tool: string,
  doc: vscode.TextDocument,
  access: 'read' | 'write',
): Promise<void> {
  if (doc.uri.scheme !== 'file') return;
  const shown = workspaceRelative(doc.uri);
  const refuse = (why: string): never => {
    throw new ToolFailure('TOOL_ERROR', 'denied', `${tool}: ${shown} in the editor ${why}`);
  };
  let fd: number;
  try {
    fd = openSync(doc.uri.fsPath, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return refuse(
      `cannot be opened on disk (${(err as NodeJS.ErrnoException).code ?? messageOf(err)}): save or close it first`,
    );
  }
  try {
    if (!fstatSync(fd).isFile()) refuse('is no longer a regular file on disk');
    const real = openedPath(fd, doc.uri.fsPath);
    const checked = await resolveInWorkspace(tool, real, access);
    if (checked !== real) refuse(`changed on disk while it was checked (${real})`);
    if (!doc.isDirty && comparable(readFileSync(fd, 'utf8')) !== comparable(doc.getText()))
      refuse(
        'does not hold what the file holds on disk (it was reloaded from elsewhere, or it is not UTF-8 text): revert or close it first',
      );
  } finally {
    closeSync(fd);
  }
}

/** The real path of what `fd` is open on: /proc says, where there is one; elsewhere the path's real path now. */
function openedPath(fd: number, path: string): string {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return realpathSync.native(path);
  }
}

/** Text as the editor shows it: no byte order mark, one kind of line end. */
const comparable = (text: string) => text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');

/** The path agents see: relative to the first workspace folder that holds it. */
export function workspaceRelative(uri: vscode.Uri): string {
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  return folder ? relative(folder.uri.fsPath, uri.fsPath) || '.' : uri.fsPath;
}
