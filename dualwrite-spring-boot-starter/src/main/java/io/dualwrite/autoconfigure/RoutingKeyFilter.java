package io.dualwrite.autoconfigure;

import io.dualwrite.routing.RoutingContext;
import io.dualwrite.routing.RoutingStrategy;
import io.dualwrite.routing.TrafficRouter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.security.Principal;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.core.Ordered;
import org.springframework.http.server.PathContainer;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;

/**
 * Binds each web request's routing key in {@link RoutingContext} for the whole request, from the first of:
 * a path variable of a matching pattern ({@code dualwrite.routing.web.path-patterns}), a header
 * ({@code dualwrite.routing.web.header}), the signed-in user's name ({@code dualwrite.routing.web.principal}).
 *
 * <p>This is the binding that fits JPA applications: a transaction's route is fixed when it takes its
 * connection, which Hibernate does when the transaction begins, usually in a service method far from any
 * parameter that names the user; a filter binds the key before any of that. A request with no value, or
 * with one that has no bucket under {@code dualwrite.routing.strategy=MODULO} (such as {@code new} in
 * {@code /owners/new}), runs without a key and takes the default route; it is counted among the keyless
 * requests. Work the request hands to other threads (async dispatches, executors) does not inherit the key.
 */
final class RoutingKeyFilter extends OncePerRequestFilter implements Ordered {

    private static final Log log = LogFactory.getLog(RoutingKeyFilter.class);

    private final List<PathPattern> patterns;
    private final String pathVariable;
    private final String header;
    private final boolean principal;
    private final int order;
    private final Supplier<RoutingStrategy> strategy;

    /**
     * @param web the settings, checked here
     * @param strategy the strategy in force, whose buckets a key must have
     * @throws DualWriteSettingException naming the property, if a pattern does not parse or lacks the variable
     */
    RoutingKeyFilter(DualWriteProperties.Web web, Supplier<RoutingStrategy> strategy) {
        this.strategy = Objects.requireNonNull(strategy, "strategy");
        this.pathVariable = web.getPathVariable();
        this.header = web.getHeader() == null || web.getHeader().isBlank() ? null : web.getHeader().trim();
        this.principal = web.isPrincipal();
        this.order = web.getFilterOrder();
        this.patterns = web.getPathPatterns().stream().map(this::parse).toList();
    }

    private PathPattern parse(String text) {
        String property = "dualwrite.routing.web.path-patterns";
        PathPattern pattern;
        try {
            pattern = PathPatternParser.defaultInstance.parse(text);
        } catch (RuntimeException e) {
            throw new DualWriteSettingException(property, property + ": '" + text + "' does not parse: "
                    + e.getMessage(), "Correct " + property + " (Spring's PathPattern syntax, e.g. /owners/{ownerId}/**).", e);
        }
        if (pathVariable == null || pathVariable.isBlank()) {
            throw new DualWriteSettingException("dualwrite.routing.web.path-variable", property + " is set but"
                    + " dualwrite.routing.web.path-variable is not", "Set dualwrite.routing.web.path-variable to the"
                    + " variable of the patterns that holds the routing key.");
        }
        if (!text.contains("{" + pathVariable + "}") && !text.contains("{*" + pathVariable + "}")
                && !text.contains("{" + pathVariable + ":")) {
            throw new DualWriteSettingException(property, property + ": '" + text + "' has no variable '"
                    + pathVariable + "' (dualwrite.routing.web.path-variable)", "Name the variable in every pattern,"
                    + " e.g. /owners/{" + pathVariable + "}/**.");
        }
        return pattern;
    }

    @Override
    public int getOrder() {
        return order;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Object key = key(request);
        if (key == null) {
            chain.doFilter(request, response);
            return;
        }
        try (RoutingContext.Scope ignored = RoutingContext.open(key)) {
            chain.doFilter(request, response);
        }
    }

    /**
     * @param request the request
     * @return its routing key, or null when no source yields one that has a bucket
     */
    String key(HttpServletRequest request) {
        String value = null;
        if (!patterns.isEmpty()) {
            String path = request.getRequestURI().substring(request.getContextPath().length());
            PathContainer container = PathContainer.parsePath(path);
            for (PathPattern pattern : patterns) {
                PathPattern.PathMatchInfo match = pattern.matchAndExtract(container);
                if (match != null) {
                    Map<String, String> variables = match.getUriVariables();
                    value = variables.get(pathVariable);
                    break;
                }
            }
        }
        if (blank(value) && header != null) {
            value = request.getHeader(header);
        }
        if (blank(value) && principal) {
            Principal user = request.getUserPrincipal();
            value = user == null ? null : user.getName();
        }
        if (blank(value)) {
            return null;
        }
        String key = value.trim();
        try {
            TrafficRouter.bucket(key, strategy.get());
        } catch (IllegalArgumentException noBucket) {
            if (log.isDebugEnabled()) {
                log.debug("dualwrite: " + request.getRequestURI() + " runs without a routing key: '" + key
                        + "' is not a whole number, which dualwrite.routing.strategy=MODULO needs");
            }
            return null;
        }
        return key;
    }

    private static boolean blank(String value) {
        return value == null || value.isBlank();
    }
}
