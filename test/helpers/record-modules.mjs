// `node --import ./test/helpers/record-modules.mjs …`: appends the URL of every module the process loads to the
// file named by $RECORD_MODULES_TO, one a line (module hooks run on their own thread, so they write a file).
import { register } from 'node:module';

register('./record-modules-hooks.mjs', import.meta.url, { data: { file: process.env.RECORD_MODULES_TO } });
