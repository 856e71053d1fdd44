package io.dualwrite.samples.soak;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy in front of the target for one instance: the network between that instance and the target,
 * which the coordinator can cut without touching anything else. The mirror benchmark's catch-up runs cut
 * the target with it too.
 *
 * <ul>
 * <li>{@link Mode#PASS}: bytes flow both ways.</li>
 * <li>{@link Mode#BLACKHOLE}: nothing flows and nothing is refused, as when packets are dropped; new
 *     connections are accepted and stall. What was sent during the cut is delivered when it heals, as TCP
 *     retransmission would, unless one side gave up and closed first.</li>
 * <li>{@link Mode#RESET}: every open connection is reset (RST), and new ones are reset as they come.</li>
 * </ul>
 */
public final class FaultProxy implements AutoCloseable {

    /** What happens to the bytes; see the class comment. */
    public enum Mode { PASS, BLACKHOLE, RESET }

    private final ServerSocket server;
    private final int upstreamPort;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Object modeChanged = new Object();
    private volatile Mode mode = Mode.PASS;
    private volatile boolean closed;

    /**
     * Starts a proxy on a free loopback port.
     *
     * @param name for its threads' names
     * @param upstreamPort the loopback port it forwards to
     * @throws IOException if it cannot listen
     */
    public FaultProxy(String name, int upstreamPort) throws IOException {
        this.upstreamPort = upstreamPort;
        this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "soak-proxy-" + name);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** @return the loopback port it listens on */
    public int port() {
        return server.getLocalPort();
    }

    Mode mode() {
        return mode;
    }

    /** Switches to {@code next}; RESET resets every open connection at once. */
    public void mode(Mode next) {
        synchronized (modeChanged) {
            mode = next;
            modeChanged.notifyAll();
        }
        if (next == Mode.RESET) {
            for (Socket socket : open) {
                reset(socket);
            }
        }
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = server.accept();
                if (mode == Mode.RESET) {
                    reset(client);
                    continue;
                }
                Thread connector = new Thread(() -> connect(client), "soak-proxy-conn");
                connector.setDaemon(true);
                connector.start();
            } catch (IOException e) {
                if (!closed) {
                    System.err.println("soak proxy: accept failed: " + e);
                }
            }
        }
    }

    private void connect(Socket client) {
        try {
            awaitFlowing();
            if (mode == Mode.RESET) {
                reset(client);
                return;
            }
            Socket upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
            open.add(client);
            open.add(upstream);
            client.setTcpNoDelay(true);
            upstream.setTcpNoDelay(true);
            pump(client, upstream);
            pump(upstream, client);
        } catch (IOException | InterruptedException e) {
            reset(client);
        }
    }

    private void pump(Socket from, Socket to) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                while (true) {
                    awaitFlowing();
                    int read = in.read(buffer);
                    if (read < 0) {
                        break;
                    }
                    // Bytes read just as the cut began are held until it heals, not delivered across it.
                    awaitFlowing();
                    out.write(buffer, 0, read);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // the connection ended; close both sides below
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "soak-proxy-pump");
        thread.setDaemon(true);
        thread.start();
    }

    private void awaitFlowing() throws InterruptedException, IOException {
        synchronized (modeChanged) {
            while (mode == Mode.BLACKHOLE) {
                modeChanged.wait(100);
            }
        }
        if (mode == Mode.RESET) {
            throw new IOException("reset by the soak proxy");
        }
    }

    private void reset(Socket socket) {
        try {
            socket.setSoLinger(true, 0);
        } catch (IOException ignored) {
            // already closed
        }
        closeQuietly(socket);
    }

    private void closeQuietly(Socket socket) {
        open.remove(socket);
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing left to do
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        for (Socket socket : open) {
            closeQuietly(socket);
        }
    }
}
