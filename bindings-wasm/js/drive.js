// Drives one of the core's operations (an `Exchange`) to its end with a
// `send` function (fetch-http.js or node-http.js): each request the core
// asks for is sent here, in JS, and the answer or failure fed back.
export async function drive(exchange, send) {
  try {
    let request = exchange.start();
    while (request !== undefined) {
      let answer;
      try {
        answer = await send(...request);
      } catch (error) {
        request = exchange.fail(error);
        continue;
      }
      request = exchange.reply(answer);
    }
    return exchange.finish();
  } finally {
    exchange.free();
  }
}
