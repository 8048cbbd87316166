/**
 * What the Dockerfile's runtime image runs, read with dockerfile-ast (the parser behind VS Code's
 * Dockerfile support) so that the check of the image's start (check-image-start.ts) runs the
 * Dockerfile's own words, not a copy of them that could drift.
 */
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { Copy, DockerfileParser, Env, JSONInstruction, type Instruction } from 'dockerfile-ast';

export interface RuntimeImage {
  /** The runtime stage's WORKDIR. */
  workdir: string;
  /** Its ENV, in order. */
  env: Record<string, string>;
  volumes: string[];
  entrypoint: string[];
  cmd: string[];
  /** HEALTHCHECK's command (exec form). */
  healthcheck: string[];
  /** `COPY --from=<stage> <source> <target>`: source as a path relative to that stage's WORKDIR, target relative to the runtime WORKDIR. */
  copiedFromBuild: { source: string; target: string }[];
}

export function readRuntimeImage(file: string): RuntimeImage {
  const dockerfile = DockerfileParser.parse(readFileSync(file, 'utf8'));
  const stages = splitIntoStages(dockerfile.getInstructions());
  const runtime = stages.at(-1)!;
  const stageWorkdirs = new Map(stages.map((stage) => [stage.name, lastWorkdir(stage.instructions)]));
  const workdir = lastWorkdir(runtime.instructions);
  const image: RuntimeImage = {
    workdir,
    env: {},
    volumes: [],
    entrypoint: [],
    cmd: [],
    healthcheck: [],
    copiedFromBuild: [],
  };
  for (const instruction of runtime.instructions) {
    const keyword = instruction.getKeyword();
    if (instruction instanceof Env) {
      for (const property of instruction.getProperties())
        image.env[property.getName()] = property.getUnescapedValue() ?? '';
    } else if (keyword === 'VOLUME') {
      image.volumes.push(...execForm(instruction));
    } else if (keyword === 'ENTRYPOINT') {
      image.entrypoint = execForm(instruction);
    } else if (keyword === 'CMD') {
      image.cmd = execForm(instruction);
    } else if (keyword === 'HEALTHCHECK') {
      image.healthcheck = healthcheckCommand(instruction);
    } else if (instruction instanceof Copy) {
      const from = instruction.getFromFlag()?.getValue();
      if (!from) continue;
      const [source, target, ...more] = instruction.getArguments().map((argument) => argument.getValue());
      if (!source || !target || more.length > 0)
        throw new Error(`${where(instruction)}: COPY --from with one source and one target only`);
      const stageWorkdir = stageWorkdirs.get(from);
      if (stageWorkdir === undefined) throw new Error(`${where(instruction)}: no stage named ${from}`);
      image.copiedFromBuild.push({
        source: posix.relative(stageWorkdir, source),
        target: posix.relative(workdir, posix.resolve(workdir, target)),
      });
    }
  }
  if (image.cmd.length === 0) throw new Error(`${file}: the runtime stage has no CMD`);
  return image;
}

interface Stage {
  name: string | null;
  instructions: Instruction[];
}

function splitIntoStages(instructions: Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.getKeyword() === 'FROM') {
      const name = /\bAS\s+(\S+)\s*$/i.exec(instruction.getArgumentsContent() ?? '')?.[1] ?? null;
      stages.push({ name, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  if (stages.length === 0) throw new Error('the Dockerfile has no FROM');
  return stages;
}

function lastWorkdir(instructions: Instruction[]): string {
  const workdirs = instructions.filter((instruction) => instruction.getKeyword() === 'WORKDIR');
  return workdirs.at(-1)?.getArgumentsContent() ?? '/';
}

/** The exec (JSON) form only: the shell form would run through /bin/sh, which this check does not model. */
function execForm(instruction: Instruction): string[] {
  if (!(instruction instanceof JSONInstruction) || !instruction.getOpeningBracket())
    throw new Error(`${where(instruction)}: ${instruction.getKeyword()} must use the exec form ["...", "..."]`);
  return instruction.getJSONStrings().map((string) => string.getJSONValue());
}

function healthcheckCommand(instruction: Instruction): string[] {
  const match = /(?:^|\s)CMD\s+(\[.*\])\s*$/s.exec(instruction.getArgumentsContent() ?? '');
  if (!match) throw new Error(`${where(instruction)}: HEALTHCHECK must be HEALTHCHECK [options] CMD ["...", "..."]`);
  const command: unknown = JSON.parse(match[1]!);
  if (!Array.isArray(command) || !command.every((part) => typeof part === 'string'))
    throw new Error(`${where(instruction)}: HEALTHCHECK CMD must be a JSON array of strings`);
  return command;
}

function where(instruction: Instruction): string {
  return `Dockerfile line ${instruction.getRange().start.line + 1}`;
}
