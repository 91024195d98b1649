// Reads a JSON array of xAPI statements on stdin and checks each with Learning Locker's
// validator (@learninglocker/xapi-validation). Prints "ok N" and exits 0 when every
// statement is valid; otherwise prints each problem (statement index, path, warning) and
// exits 1.
"use strict";
const validate = require("@learninglocker/xapi-validation").default;
let input = "";
process.stdin.on("data", (d) => { input += d; });
process.stdin.on("end", () => {
  const statements = JSON.parse(input);
  let bad = 0;
  statements.forEach((st, i) => {
    for (const w of validate(st)) {
      bad++;
      console.log("statement " + i + " (" + (st.verb && st.verb.id) + "): " + w.path.join(".") + ": " + w.name);
    }
  });
  if (bad) process.exit(1);
  console.log("ok " + statements.length);
});
