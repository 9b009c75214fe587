-- record_share: share of the records of $interventi with the event in the year that satisfy a
-- condition: start within $giorni_max days of the request and/or $esito (NULL = no condition).
-- $richiede_data_richiesta: records without data_richiesta are left out of numerator and denominator.
-- Records are unique ((fonte, id_prestazione)), so counts add up across territories.
WITH anni AS (SELECT * FROM anni_finestra($anni, $as_of)),
righe AS (
    SELECT a.anno, p.comune, s.sub_ambito,
           ($giorni_max::INTEGER IS NULL OR date_diff('day', p.data_richiesta, p.data_inizio) <= $giorni_max::INTEGER)
           AND ($esito::VARCHAR IS NULL OR p.esito = $esito::VARCHAR) AS ok
    FROM prestazioni AS p
    JOIN anni AS a ON evento_in_anno($evento::VARCHAR, p.data_inizio, p.data_fine, a.d0, a.d1)
    LEFT JOIN sub_ambiti AS s ON s.comune = p.comune
    WHERE list_contains($interventi::VARCHAR[], p.intervento)
      AND (NOT $richiede_data_richiesta::BOOLEAN OR p.data_richiesta IS NOT NULL)
)
SELECT anno,
       CASE WHEN grouping(comune) = 0 THEN 'comune' WHEN grouping(sub_ambito) = 0 THEN 'sub_ambito'
            ELSE 'ambito' END AS livello,
       CASE WHEN grouping(comune) = 0 THEN comune WHEN grouping(sub_ambito) = 0 THEN sub_ambito
            ELSE 'AMBITO' END AS territorio,
       (count(*) FILTER (WHERE ok))::DOUBLE AS numeratore,
       count(*)::DOUBLE AS denominatore
FROM righe
GROUP BY GROUPING SETS ((anno, comune), (anno, sub_ambito), (anno))
