import { describe, expect, it } from 'vitest';
import { discMask, packColour, stampPoints } from '../../../dashboard/src/logic/point-stamp.js';

const identity = { ax: 1, bx: 0, ay: 1, by: 0 };

/** The buffer as rows of characters: '.' empty, otherwise the letter of the colour. */
function picture(pixels: Uint32Array, width: number, names: Map<number, string>): string[] {
  const rows: string[] = [];
  for (let y = 0; y < pixels.length / width; y++) {
    rows.push(
      [...pixels.slice(y * width, (y + 1) * width)].map((c) => (c === 0 ? '.' : (names.get(c) ?? '?'))).join(''),
    );
  }
  return rows;
}

describe('scatter points stamped as pixels', () => {
  it('a disc of 3 pixels is a plus; of 5, a rounded square', () => {
    expect(discMask(1)).toEqual(Int16Array.from([0, 0]));
    expect(discMask(3).length / 2).toBe(5);
    expect(discMask(5).length / 2).toBe(21);
  });

  it('stamps each point with a value where the projection puts it, later colours over earlier ones, clipped at the edges', () => {
    const width = 6;
    const pixels = new Uint32Array(width * 4);
    const red = packColour([255, 0, 0]);
    const blue = packColour([0, 0, 255]);
    const plus = discMask(3);
    stampPoints(pixels, width, 4, [1, 2, 5, 9], [1, null, 0, 1], identity, red, plus);
    stampPoints(pixels, width, 4, [2], [2], identity, blue, plus);
    expect(
      picture(
        pixels,
        width,
        new Map([
          [red, 'r'],
          [blue, 'b'],
        ]),
      ),
    ).toEqual([
      '.r..rr', //
      'rrb..r',
      '.bbb..',
      '..b...',
    ]);
  });

  it('packs a colour in the byte order ImageData holds', () => {
    const bytes = new Uint8ClampedArray(new Uint32Array([packColour([10, 20, 30])]).buffer);
    expect([...bytes]).toEqual([10, 20, 30, 255]);
  });
});
