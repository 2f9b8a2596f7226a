{
  "key": "zoryx-ed25519:WlFOZ4d/K5QosMZrreCzftiLwNyLI+LjjwlPvU4cX74=",
  "signature": "s3uXKvoA3UOMlR/ArElZGPRekSvrgHOYxxksYNwTndeSHSwAThLVvLCuiGYFJI4QTPbn/7TxE8QCmd9V+J/wAQ=="
}
