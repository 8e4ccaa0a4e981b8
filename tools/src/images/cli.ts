/**
 * `node --import tsx tools/src/images/cli.ts`: the base image, then every artifact of skaffold.yaml
 * built from the root Dockerfile with podman (see ./podman.ts), then a table of build seconds and
 * sizes. Exits 0 with one sentence where podman cannot build here.
 */
import { buildAll, cacheDir, imageTable, unavailable } from './podman';

const why = unavailable();
if (why) {
  console.log(`images: skipped, the images cannot be built here: ${why}.`);
  process.exit(0);
}
const log = (line: string) => console.log(`images: ${line}`);
log(`cache ${cacheDir()} (podman output in build.log there)`);
const { images, seconds } = buildAll(log);
console.log(`\n${imageTable(images)}\n\nimages: built ${images.length} images in ${seconds.toFixed(1)} s`);
