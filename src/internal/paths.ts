import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The directory holding Vigil's package.json, found by walking up from this module: the same
 * answer whether the sources run through tsx (src/internal/) or from the build (dist/). Files that
 * ship beside the code (the model, the config schema) are found from here.
 */
export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown }).name === "vigil") return dir;
      } catch {
        // not ours (or unreadable): keep walking up
      }
    }
    if (path.dirname(dir) === dir) throw new Error(`cannot find Vigil's package.json above ${start}`);
  }
}

/** A file shipped with Vigil, by its path from the package root. */
export function shippedFile(relative: string): string {
  return path.join(PACKAGE_ROOT, relative);
}
