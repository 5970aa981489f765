// Files named by agents resolve inside the workspace folders only: real paths (symlinks and `..`
// resolved) are checked against the folders' real paths, like the runtime's file sandbox.
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import * as vscode from 'vscode';
import { ToolFailure } from '../bridge/client';

function realpathOrNearest(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    const parent = dirname(path);
    // A file not yet created: resolve its folder instead (and keep the name).
    return parent === path ? path : resolve(realpathOrNearest(parent), relative(parent, path));
  }
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

export function workspaceRoots(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => realpathOrNearest(f.uri.fsPath));
}

/** An absolute, real path inside a workspace folder, or a ToolFailure saying why not. */
export function resolveInWorkspace(tool: string, path: string): string {
  const roots = workspaceRoots();
  if (!roots.length) throw new ToolFailure('TOOL_ERROR', 'denied', `${tool}: no workspace folder is open`);
  const candidate = realpathOrNearest(isAbsolute(path) ? path : resolve(roots[0]!, path));
  if (!roots.some((root) => inside(root, candidate))) {
    throw new ToolFailure('TOOL_ERROR', 'denied', `${tool}: "${path}" is outside the workspace folders (${roots.join(', ')})`);
  }
  return candidate;
}

/** The path agents see: relative to the first workspace folder that holds it. */
export function workspaceRelative(uri: vscode.Uri): string {
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  return folder ? relative(folder.uri.fsPath, uri.fsPath) || '.' : uri.fsPath;
}
