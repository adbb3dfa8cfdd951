import { ChainFixture } from "../test/chain-fixture.ts";
const n = Number(process.argv[2]);
let t = performance.now();
const c = new ChainFixture({ fillerKeys: n });
console.log("build", n, ((performance.now() - t) / 1000).toFixed(1), "s", (process.memoryUsage().rss / 1e6).toFixed(0), "MB");
t = performance.now();
for (let i = 0; i < 100; i++) c.addBlock();
console.log("100 blocks", ((performance.now() - t) / 1000).toFixed(2), "s; proof bytes", c.blocks[99].proof.reduce((a, p) => a + p.length, 0));
