// The panel's page: the bundled dashboard (dist/webview.js, dist/webview.css) under a strict
// Content Security Policy. Scripts run only with this page's nonce; styles and images come only
// from the extension's own resources (images also as data: URIs); everything else, fetches and
// frames included, is refused: the page talks to the runtime only through the panel's messages.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export function dashboardCsp(webview: vscode.Webview, nonce: string): string {
  return [
    `default-src 'none'`,
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `base-uri 'none'`,
    `form-action 'none'`,
  ].join('; ');
}

/** A fresh page with a fresh nonce: set it once per webview (setting html reloads the page). */
export function dashboardHtml(webview: vscode.Webview, dist: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css'));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${dashboardCsp(webview, nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Loom Dashboard</title>
<link rel="stylesheet" href="${style}">
</head><body><script nonce="${nonce}" src="${script}"></script></body></html>`;
}
