{
  # The native packet io (native/*.cc), built by scripts/build-native.mjs during
  # npm install / npm ci. Linux only: epoll, recvmmsg, SO_TIMESTAMPNS.
  "targets": [
    {
      "target_name": "callwatch_native",
      "sources": [
        "native/addon.cc",
        "native/native_io.cc",
        "native/event_thread.cc",
        "native/fast_relay.cc",
        "native/tap_recorder.cc",
        "native/recv_batch.cc",
        "native/udp_socket.cc",
        "native/sip_socket.cc",
        "native/send_ring.cc",
        "native/uring.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "conditions": [
        ["OS!='linux'", { "type": "none" }]
      ]
    }
  ]
}
